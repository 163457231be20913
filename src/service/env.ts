// The environment a started service (and the container CLI that starts one) inherits: loadgate's own,
// minus what belongs to the runner. The service is often the pull request's own code, and the action's
// process holds the runner's runtime secrets (ACTIONS_RUNTIME_TOKEN: artifact and cache writes;
// ACTIONS_ID_TOKEN_REQUEST_TOKEN: OIDC tokens; their URLs) and its inputs (INPUT_GITHUB-TOKEN), which the
// runner never gives a `run:` step. A variable the config sets itself (service env:) is still passed.

/** Names the service never inherits: the runner's ACTIONS_* runtime variables and the action's INPUT_* inputs. */
export function withheld(name: string): boolean {
  return /^(ACTIONS_|INPUT_)/i.test(name);
}

/** `env` without the variables `withheld` names. */
export function serviceEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !withheld(k)));
}
