export default { name: 'x', plays: [] };
