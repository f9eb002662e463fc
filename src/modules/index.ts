/** Every module's task factory. Playbooks and task groups import from here. */
export { file, type FileProps } from './file.ts';
export { directory, type DirectoryProps } from './directory.ts';
export { copy, type CopyProps } from './copy.ts';
export { template, type TemplateProps } from './template.ts';
export { line, type LineProps } from './line.ts';
export { command, type CommandProps } from './command.ts';
export { service, type ServiceProps } from './service.ts';
export { packages, type PackageProps } from './package.ts';
export { wait, type WaitProps } from './wait.ts';
export { link, type LinkProps } from './link.ts';
export { flags, type FlagsProps } from './flags.ts';
export { json } from './json.ts';
export { certificate, type CertificateProps } from './certificate.ts';
export { caCertificate, type CaCertificateProps } from './ca-certificate.ts';
export { kubeconfig, type KubeconfigProps } from './kubeconfig.ts';
export { capability, type CapabilityProps } from './capability.ts';
export { kubectlApply, type KubectlApplyProps } from './kubectl-apply.ts';
export { flushHandlers } from './flush-handlers.ts';
