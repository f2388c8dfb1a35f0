// PALISADE_DEBUG=1: the CLI says each step of reaching the agents on stderr, so a command
// that stalls shows where.
import { safe } from './format';

export const debug: ((message: string) => void) | undefined = process.env.PALISADE_DEBUG
    ? (message) => process.stderr.write(`palisade: debug: ${safe(message)}\n`)
    : undefined;
