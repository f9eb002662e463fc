// The few fields a stand-in kubelet/kube-proxy needs from a kubeconfig in the standard layout (no YAML library:
// the stand-ins run inside hosts without node_modules). First cluster's server and CA, first user's client pair.
/** The few kubeconfig fields needed, from the standard layout (first cluster, first user). */
export function readKubeconfigFields(text) {
  const pick = (section, key) => {
    const start = text.search(new RegExp(`^${section}:`, 'm'));
    if (start === -1) return undefined;
    const rest = text.slice(start + section.length + 1);
    const end = rest.search(/^[A-Za-z]/m);
    const body = end === -1 ? rest : rest.slice(0, end);
    const m = new RegExp(`^[\\s-]*${key}:[ \\t]*(.*?)[ \\t]*$`, 'm').exec(body);
    if (!m) return undefined;
    const v = m[1];
    if (/^'.*'$/.test(v)) return v.slice(1, -1).replace(/''/g, "'");
    if (/^".*"$/.test(v)) { try { return JSON.parse(v); } catch { return v.slice(1, -1); } }
    return v.replace(/\s+#.*$/, '');
  };
  return {
    server: pick('clusters', 'server'),
    ca: pick('clusters', 'certificate-authority'), caData: pick('clusters', 'certificate-authority-data'),
    cert: pick('users', 'client-certificate'), certData: pick('users', 'client-certificate-data'),
    key: pick('users', 'client-key'), keyData: pick('users', 'client-key-data'),
  };
}

