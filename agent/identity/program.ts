// What program a process is, from the facts the kernel recorded at exec.
// Pure functions: the exec facts come from the datapath or from /proc.
import * as path from 'node:path';
import type { KernelProgram } from '../protocol';

export interface ExecFacts {
    /** The file the kernel mapped (mm->exe_file). */
    exe: string;
    /** The path handed to execve: relative, a symlink, or a script. */
    filename: string;
    cwd: string;
    args: string[];
    /** binfmt_script/misc ran an interpreter on `filename`. */
    viaInterpreter: boolean;
}

export interface Program {
    binary: string;
    exe?: string;
    script?: string;
}

// Interpreters whose identity is the script they run, not the interpreter alone.
const INTERPRETER = new RegExp(
    '^(node|nodejs|python[0-9.]*|ruby[0-9.]*|perl[0-9.]*|' +
        'bash|sh|dash|zsh|php[0-9.]*|deno|bun|java)$',
);

interface Grammar {
    /** Options that take the next argument as a value, not as the script. */
    value: Set<string>;
    /** Options whose program text is inline: there is no script file to name. */
    inline: Set<string>;
    /** Options naming the program as a module, jar or class rather than a file. */
    module: Map<string, string>;
}

const grammar = (value: string[], inline: string[], module: [string, string][] = []) => ({
    value: new Set(value),
    inline: new Set(inline),
    module: new Map(module),
});

const GRAMMARS: [RegExp, Grammar][] = [
    [
        /^(node|nodejs|bun)$/,
        grammar(['-r', '--require', '--import', '--loader'], ['-e', '--eval', '-p', '--print']),
    ],
    [/^deno$/, grammar([], ['eval'])],
    [/^python/, grammar(['-W', '-X', '--check-hash-based-pycs'], ['-c'], [['-m', 'module']])],
    [/^ruby/, grammar(['-I', '-r', '-C', '-E'], ['-e'])],
    [/^perl/, grammar(['-I', '-M', '-m'], ['-e', '-E'])],
    [/^(bash|sh|dash|zsh)$/, grammar(['-o', '-O', '+o', '+O'], ['-c'])],
    [/^php/, grammar(['-d', '-c', '-z'], ['-r'])],
    [
        /^java$/,
        grammar(
            [
                '-cp',
                '-classpath',
                '--class-path',
                '-p',
                '--module-path',
                '--add-opens',
                '--add-exports',
                '--add-modules',
            ],
            [],
            [
                ['-jar', 'file'],
                ['-m', 'module'],
                ['--module', 'module'],
            ],
        ),
    ],
];

export function absolute(p: string, cwd: string): string {
    if (p === '') return p;
    return path.isAbsolute(p) ? path.normalize(p) : path.resolve(cwd || '/', p);
}

/** The path as executed, unless it names a descriptor rather than a file. */
function invokedPath(f: ExecFacts): string {
    if (f.filename === '' || /^\/(dev|proc\/self)\/fd\//.test(f.filename)) return f.exe;
    return absolute(f.filename, f.cwd);
}

/**
 * Inline program text attached to its option: `--eval=CODE`, `-cCODE`, `-eCODE`. Without
 * this, `python3 -cCODE allowed.py` would be named after allowed.py while running CODE.
 */
function inlineAttached(a: string, inline: Set<string>): boolean {
    for (const o of inline) {
        if (o.startsWith('--') ? a.startsWith(`${o}=`) : a.startsWith(o) && a.length > o.length) {
            return true;
        }
    }
    return false;
}

/** The script an interpreter was asked to run, from its argv. */
export function scriptArgument(
    args: string[],
    cwd: string,
    interpreter = path.basename(args[0] ?? ''),
): string | undefined {
    const name = interpreter;
    const g = GRAMMARS.find(([re]) => re.test(name))?.[1] ?? GRAMMARS[0]?.[1];
    if (!g) return undefined;
    for (let i = 1; i < args.length; i++) {
        const a = args[i] ?? '';
        if (g.inline.has(a) || inlineAttached(a, g.inline)) return '(inline)';
        // Clustered short flags: `bash -ec '...'`, `python3 -uc '...'`.
        if (/^-[A-Za-z]{2,}$/.test(a) && [...a.slice(1)].some((c) => g.inline.has('-' + c))) {
            return '(inline)';
        }
        const kind = g.module.get(a);
        if (kind === 'file') return args[i + 1] ? absolute(args[i + 1] ?? '', cwd) : undefined;
        // `python3 -m pkg.mod`, `java -m mod/Main`: the module is the program.
        if (kind) return args[i + 1] ? `module:${args[i + 1]}` : undefined;
        if (a === '--') return args[i + 1] ? absolute(args[i + 1] ?? '', cwd) : undefined;
        if (g.value.has(a)) {
            i++;
            continue;
        }
        if (a.startsWith('-') || a.startsWith('+')) continue;
        // `java -cp lib Main`: a main class, not a file.
        if (name === 'java') return `class:${a}`;
        return absolute(a, cwd);
    }
    return undefined;
}

export function programOf(f: ExecFacts): Program {
    if (f.viaInterpreter) {
        // `#!/bin/sh` files: the interpreter runs, the script is what was executed.
        return { binary: f.exe, script: invokedPath(f) };
    }
    const binary = invokedPath(f);
    const program: Program = { binary };
    if (f.exe && f.exe !== binary) program.exe = f.exe;
    const interpreter = [path.basename(binary), path.basename(f.exe)].find((n) =>
        INTERPRETER.test(n),
    );
    if (interpreter) {
        const script = scriptArgument(f.args, f.cwd, interpreter);
        if (script) program.script = script;
    }
    return program;
}

/**
 * A path as the kernel's hash_abs reads it: absolute as written, else joined to the working
 * directory with one leading "./" dropped. Nothing is normalized ("..", "//" stay).
 */
function kernelPath(p: string, cwd: string): string {
    if (p.startsWith('/')) return p;
    const rel = p.startsWith('./') ? p.slice(2) : p;
    return (cwd === '/' ? '/' : `${cwd}/`) + rel;
}

/**
 * What the kernel names a process by (bpf/program.bpf.h, program_hashes). Unlike programOf,
 * no interpreter grammar: only argv[1] can be a script, and only when it is not an option,
 * because options before a script may carry code of their own (`node -r x api.js`).
 * NOTE: the kernel hashes raw bytes, this the text decoded from them: a path that is not
 * valid UTF-8 hashes differently here (no policy, being UTF-8 text, can name it anyway).
 */
export function kernelProgramOf(f: ExecFacts): KernelProgram {
    const file = kernelPath(f.filename, f.cwd);
    if (f.viaInterpreter) return { file, exe: f.exe, shebang: true };
    const arg = f.args[1];
    if (arg === undefined || arg === '' || arg.startsWith('-')) return { file, exe: f.exe };
    return { file, exe: f.exe, arg: kernelPath(arg, f.cwd) };
}
