// `palisade-agent rpc`: joins this process's stdin/stdout to the agent's unix socket, so
// that any stream transport that can run a command (ssh exec, kubectl exec, sudo) reaches
// the agent with no listener of its own. Bytes pass through untouched; framing is end-to-end.
import { createConnection } from 'node:net';

/** Resolves with the exit code for the process: 0 when either side closed cleanly. */
export function runRpcBridge(socketPath: string): Promise<number> {
    return new Promise((resolve) => {
        const socket = createConnection(socketPath);
        let done = false;
        const finish = (code: number) => {
            if (done) return;
            done = true;
            socket.destroy();
            resolve(code);
        };

        socket.once('connect', () => {
            process.stdin.pipe(socket);
            socket.pipe(process.stdout);
        });
        socket.on('error', (err: NodeJS.ErrnoException) => {
            process.stderr.write(`palisade-agent rpc: ${socketPath}: ${err.code ?? err.message}\n`);
            // 69 is EX_UNAVAILABLE: the client tells "agent not running" from other failures.
            finish(69);
        });
        socket.on('close', () => finish(0));
        process.stdin.on('end', () => socket.end());
        process.stdout.on('error', () => finish(0));
    });
}
