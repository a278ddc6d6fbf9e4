// git over ssh ("git@host:org/repo.git", "ssh://user@host[:port]/repo.git"), as BuildKit's git
// source runs it: ssh with no configuration file of the user's (-F /dev/null), the build's ssh agent
// (--ssh, id "default" unless the source names another) as SSH_AUTH_SOCK, and, with no known hosts
// given, the host key accepted without being recorded (BuildKit's StrictHostKeyChecking=no; its
// frontend's best-effort key scan is trust on first use too).

/** Whether git reaches `remote` over ssh. */
export function isSshRemote(remote: string): boolean {
  return /^ssh:\/\//.test(remote) || /^[\w.-]+@[\w.-]+:/.test(remote);
}

/** The ssh command git runs (GIT_SSH_COMMAND): `knownHostsFile` pins the host keys when given. */
export function gitSshCommand(knownHostsFile: string | undefined): string {
  const pin = knownHostsFile === undefined ? "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" : `-o UserKnownHostsFile=${knownHostsFile}`;
  return `ssh -F /dev/null ${pin} -o BatchMode=yes`;
}

/** The environment git needs for an ssh remote, with the agent at `authSock`. */
export function gitSshEnv(authSock: string, knownHostsFile?: string): Record<string, string> {
  return { GIT_SSH_COMMAND: gitSshCommand(knownHostsFile), SSH_AUTH_SOCK: authSock };
}
