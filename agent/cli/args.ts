// Command-line arguments: every mistake in them is a UsageError, which the CLI reports in one
// line of its own words, then the usage, and exits 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
    override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs, strict, with positionals; a bad option throws a UsageError that names it. */
export function parseOptions<T extends Options>(args: string[], options: T) {
    try {
        return parseArgs({ args, options, allowPositionals: true, strict: true });
    } catch (err) {
        if (!isParseArgsError(err)) throw err;
        // Node's own text quotes the option oddly and suggests `--`: say it plainly instead.
        const message = err.message.split('\n')[0] ?? err.message;
        throw new UsageError(optionProblem(args, options) ?? message);
    }
}

function isParseArgsError(err: unknown): err is Error {
    const code = (err as { code?: unknown } | null)?.code;
    return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** The first option that a strict parse refuses, read from a lenient parse's tokens. */
function optionProblem(args: string[], options: Options): string | undefined {
    const { tokens } = parseArgs({
        args,
        options,
        allowPositionals: true,
        strict: false,
        tokens: true,
    });
    for (const t of tokens) {
        if (t.kind !== 'option') continue;
        const spec = options[t.name];
        if (!spec) return `unknown option ${t.rawName}`;
        const value = t.value;
        if (spec.type === 'boolean' && value !== undefined) return `${t.rawName} takes no value`;
        // `--limit --json`: the lenient parse takes the next option as the value.
        const missing = value === undefined || (!t.inlineValue && value.startsWith('-'));
        if (spec.type === 'string' && missing) return `${t.rawName} needs a value`;
    }
    return undefined;
}
