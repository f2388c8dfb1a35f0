// A throwaway code-server: the cached install from scripts/e2e-setup.sh, our packaged
// extension unpacked into a fresh extensions dir, a fresh user-data dir and a workspace.
// Everything it makes lives under one temp dir that stop() removes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
    cpSync,
    createWriteStream,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    renameSync,
    rmSync,
    writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const CACHE = process.env.PALISADE_E2E_CACHE ?? '/var/cache/palisade-e2e';

interface Install {
    node: string;
    codeServer: string;
    version: string;
}

export type Theme = 'dark' | 'light';

export const THEMES: Record<Theme, string> = {
    dark: 'Default Dark Modern',
    light: 'Default Light Modern',
};

/** Why code-server cannot run here, or undefined when it can. */
export function codeServerMissing(): string | undefined {
    const install = readInstall();
    if (install === undefined) {
        return `code-server is not installed in ${CACHE} (run scripts/e2e-setup.sh)`;
    }
    if (!existsSync(install.node) || !existsSync(install.codeServer)) {
        return `the cached code-server install is incomplete (rerun scripts/e2e-setup.sh)`;
    }
    if (!existsSync(path.join(ROOT, 'dist/extension.js'))) {
        return 'dist/extension.js is missing (run node scripts/build.mjs)';
    }
    return undefined;
}

function readInstall(): Install | undefined {
    try {
        return JSON.parse(readFileSync(path.join(CACHE, 'current.json'), 'utf8')) as Install;
    } catch {
        return undefined;
    }
}

async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

function run(cmd: string, args: string[], cwd = ROOT): void {
    const out = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000 });
    if (out.status !== 0) {
        throw new Error(`${cmd} ${args.join(' ')} failed: ${out.stderr}${out.stdout}`);
    }
}

export class CodeServer {
    readonly dir = mkdtempSync(path.join(tmpdir(), 'palisade-e2e-'));
    readonly workspace = path.join(this.dir, 'workspace');
    readonly userData = path.join(this.dir, 'user-data');
    readonly extensions = path.join(this.dir, 'extensions');
    url = '';
    private child: ChildProcess | undefined;

    /** @param logFile where code-server's own output goes (kept after stop). */
    constructor(private readonly logFile: string) {}

    get settingsFile(): string {
        return path.join(this.userData, 'User/settings.json');
    }

    /** Packages the extension the way users get it (a .vsix) and unpacks it in place. */
    installExtension(): string {
        const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
            publisher: string;
            name: string;
            version: string;
        };
        const vsix = path.join(this.dir, 'palisade.vsix');
        run(path.join(ROOT, 'node_modules/.bin/vsce'), [
            'package',
            '--no-dependencies',
            '--allow-missing-repository',
            '--out',
            vsix,
        ]);

        const unpacked = path.join(this.dir, 'vsix');
        run('python3', ['-m', 'zipfile', '-e', vsix, unpacked]);
        const id = `${manifest.publisher}.${manifest.name}-${manifest.version}`;
        mkdirSync(this.extensions, { recursive: true });
        renameSync(path.join(unpacked, 'extension'), path.join(this.extensions, id));
        return id;
    }

    writeWorkspace(files: Record<string, string>): void {
        for (const [name, text] of Object.entries(files)) {
            mkdirSync(path.dirname(path.join(this.workspace, name)), { recursive: true });
            writeFileSync(path.join(this.workspace, name), text);
        }
    }

    copyIntoWorkspace(from: string, name: string): void {
        cpSync(from, path.join(this.workspace, name));
    }

    /** User settings that keep the page free of trust prompts, welcome pages and chat. */
    writeSettings(theme: Theme, extra: Record<string, unknown> = {}): void {
        mkdirSync(path.dirname(this.settingsFile), { recursive: true });
        const settings = {
            'security.workspace.trust.enabled': false,
            'workbench.startupEditor': 'none',
            'chat.disableAIFeatures': true,
            'workbench.tips.enabled': false,
            'extensions.ignoreRecommendations': true,
            'extensions.autoCheckUpdates': false,
            'extensions.autoUpdate': false,
            'update.mode': 'none',
            'workbench.secondarySideBar.defaultVisibility': 'hidden',
            'workbench.colorTheme': THEMES[theme],
            ...extra,
        };
        writeFileSync(this.settingsFile, JSON.stringify(settings, null, 4));
    }

    async start(): Promise<void> {
        const install = readInstall();
        if (install === undefined) {
            throw new Error(codeServerMissing());
        }
        mkdirSync(this.workspace, { recursive: true });
        mkdirSync(path.dirname(this.logFile), { recursive: true });
        const port = await freePort();
        const log = createWriteStream(this.logFile);

        const args = [
            install.codeServer,
            '--auth',
            'none',
            '--bind-addr',
            `127.0.0.1:${port}`,
            '--user-data-dir',
            this.userData,
            '--extensions-dir',
            this.extensions,
            '--disable-telemetry',
            '--disable-update-check',
            '--disable-workspace-trust',
            this.workspace,
        ];
        const child = spawn(install.node, args, {
            cwd: this.dir,
            // Its own process group, so stop() also ends the extension host and watchers.
            detached: true,
            env: {
                ...process.env,
                // code-server keeps its config and logs under XDG dirs; not in root's home.
                XDG_CONFIG_HOME: path.join(this.dir, 'xdg-config'),
                XDG_DATA_HOME: path.join(this.dir, 'xdg-data'),
                XDG_CACHE_HOME: path.join(this.dir, 'xdg-cache'),
                // The extension gallery is the only thing it would reach out to; point it at
                // a closed loopback port so nothing leaves the machine.
                EXTENSIONS_GALLERY: JSON.stringify({
                    serviceUrl: 'http://127.0.0.1:9/gallery',
                    itemUrl: 'http://127.0.0.1:9/items',
                    resourceUrlTemplate: 'http://127.0.0.1:9/resources',
                }),
            },
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        this.child = child;
        child.stdout?.pipe(log);
        child.stderr?.pipe(log);

        await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
                () => reject(new Error(`code-server did not listen within 60 s`)),
                60_000,
            );
            const onData = (chunk: Buffer) => {
                if (chunk.toString().includes('HTTP server listening')) {
                    clearTimeout(timer);
                    resolve();
                }
            };
            child.stdout?.on('data', onData);
            child.once('exit', (code) => {
                clearTimeout(timer);
                reject(new Error(`code-server exited with ${code}; see ${this.logFile}`));
            });
        });
        this.url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(this.workspace)}`;
    }

    /** The extension host's logs, where our LogOutputChannel lands. */
    copyLogs(to: string): void {
        const logs = path.join(this.userData, 'logs');
        if (existsSync(logs)) {
            cpSync(logs, to, { recursive: true });
        }
    }

    async stop(): Promise<void> {
        const child = this.child;
        this.child = undefined;
        if (child?.pid !== undefined) {
            const exited = new Promise((resolve) =>
                child.exitCode === null ? child.once('exit', resolve) : resolve(undefined),
            );
            killGroup(child.pid, 'SIGTERM');
            const timeout = new Promise((resolve) => setTimeout(resolve, 5000, 'timeout'));
            if ((await Promise.race([exited, timeout])) === 'timeout') {
                killGroup(child.pid, 'SIGKILL');
                await exited;
            }
            // Helpers outlive the main process for a moment; the group goes with them.
            killGroup(child.pid, 'SIGKILL');
        }
        rmSync(this.dir, { recursive: true, force: true });
    }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(-pgid, signal);
    } catch {
        // Already gone.
    }
}
