// One logger per process: levels, namespaces, structured fields, one JSON line each.
// Values are data: they are serialized, never interpolated into the message.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
    debug(msg: string, fields?: Fields): void;
    info(msg: string, fields?: Fields): void;
    warn(msg: string, fields?: Fields): void;
    error(msg: string, fields?: Fields): void;
    child(namespace: string): Logger;
}

export interface LogSink {
    write(line: string): void;
}

export function createLogger(
    namespace: string,
    minLevel: Level = 'info',
    sink: LogSink = process.stderr,
): Logger {
    const emit = (level: Level, msg: string, fields?: Fields) => {
        if (ORDER[level] < ORDER[minLevel]) return;
        const record = { t: new Date().toISOString(), level, ns: namespace, msg, ...fields };
        sink.write(JSON.stringify(record, bigintSafe) + '\n');
    };
    return {
        debug: (m, f) => emit('debug', m, f),
        info: (m, f) => emit('info', m, f),
        warn: (m, f) => emit('warn', m, f),
        error: (m, f) => emit('error', m, f),
        child: (ns) => createLogger(`${namespace}:${ns}`, minLevel, sink),
    };
}

function bigintSafe(_key: string, value: unknown): unknown {
    return typeof value === 'bigint' ? value.toString() : value;
}
