// The extension's one log: a LogOutputChannel, so the user picks the level in the UI.
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

/** Creates the channel once; the caller puts it in context.subscriptions. */
export function createLog(): vscode.LogOutputChannel {
    channel ??= vscode.window.createOutputChannel('Palisade', { log: true });
    return channel;
}

function write(level: 'trace' | 'debug' | 'info' | 'warn', message: string): void {
    channel?.[level](message);
}

export const log = {
    trace: (message: string) => write('trace', message),
    debug: (message: string) => write('debug', message),
    info: (message: string) => write('info', message),
    warn: (message: string) => write('warn', message),
    error: (message: string, err?: unknown) => {
        const detail = err instanceof Error ? (err.stack ?? err.message) : err;
        channel?.error(detail === undefined ? message : `${message}: ${String(detail)}`);
    },
    show: () => channel?.show(true),
};

export function disposeLog(): void {
    channel = undefined;
}
