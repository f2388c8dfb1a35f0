// What program a process is, from the facts the kernel recorded at exec.
// Pure functions: the exec facts come from the datapath or from /proc.
import * as path from 'node:path';

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
const INTERPRETER =
    /^(node|nodejs|python[0-9.]*|ruby[0-9.]*|perl[0-9.]*|bash|sh|dash|zsh|php[0-9.]*|deno|bun)$/;
// Options that take the next argument as a value, not as the script.
const VALUE_OPTIONS = new Set(['-r', '--require', '--import', '--loader', '-W', '-X', '-I']);
// Options whose program text is inline: there is no script file to name.
const INLINE_OPTIONS = new Set(['-e', '--eval', '-p', '--print', '-c']);

export function absolute(p: string, cwd: string): string {
    if (p === '') return p;
    return path.isAbsolute(p) ? path.normalize(p) : path.resolve(cwd || '/', p);
}

/** The path as executed, unless it names a descriptor rather than a file. */
function invokedPath(f: ExecFacts): string {
    if (f.filename === '' || /^\/(dev|proc\/self)\/fd\//.test(f.filename)) return f.exe;
    return absolute(f.filename, f.cwd);
}

/** The script an interpreter was asked to run, from its argv. */
export function scriptArgument(args: string[], cwd: string): string | undefined {
    for (let i = 1; i < args.length; i++) {
        const a = args[i] ?? '';
        if (INLINE_OPTIONS.has(a)) return '(inline)';
        // `python3 -m pkg.mod`: the module is the program.
        if (a === '-m') return args[i + 1] ? `module:${args[i + 1]}` : undefined;
        if (a === '--') return args[i + 1] ? absolute(args[i + 1] ?? '', cwd) : undefined;
        if (VALUE_OPTIONS.has(a)) {
            i++;
            continue;
        }
        if (a.startsWith('-')) continue;
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
    if (INTERPRETER.test(path.basename(binary)) || INTERPRETER.test(path.basename(f.exe))) {
        const script = scriptArgument(f.args, f.cwd);
        if (script) program.script = script;
    }
    return program;
}

/** systemd unit (or lab unit) named by the last `.service`/`.scope` component. */
export function unitOf(cgroupPath: string): string | undefined {
    const parts = cgroupPath.split('/').filter(Boolean);
    for (let i = parts.length - 1; i >= 0; i--) {
        const part = parts[i] ?? '';
        if (/\.(service|scope)$/.test(part)) return part;
    }
    return undefined;
}
