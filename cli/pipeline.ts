// The pipeline's own long-running processes (streaming worker, batch worker, producer,
// dashboard), managed like the stack's servers. They start after the stack is up.
import type { ServiceDef } from '../stack/types.ts';

export interface PipelineOptions {
  producer: boolean;
}

export function pipelineProcesses(_options: PipelineOptions): ServiceDef[] {
  return [];
}
