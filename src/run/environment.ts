// Where this run measured: the machine, the OS and loadgate's version (and the image, for a container), so
// a comparison with a stored result can say where the two differ.

import { availableParallelism, cpus, platform, release } from 'node:os';
import type { ServicePlan } from '../plan/types.ts';
import type { Environment } from '../verdict/compare.ts';
import { VERSION } from '../version.ts';

export function thisEnvironment(service?: ServicePlan): Environment {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    os: `${platform()} ${release()}`,
    loadgate: VERSION,
    ...(service?.kind === 'container' ? { image: service.image } : {}),
    at: new Date().toISOString(),
  };
}
