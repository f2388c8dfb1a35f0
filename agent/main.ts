// palisade-agent: the root daemon. `palisade-agent rpc` bridges stdio to a running agent.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Agent } from './agent';
import { cgroup2Mount } from './identity/system';
import { createLogger, Level } from './log';
import { DEFAULT_AGENT_SOCKET } from './remote/agentClient';
import { runRpcBridge } from './rpcBridge';

const USAGE = `usage: palisade-agent [options]        run the agent (root)
       palisade-agent rpc                bridge stdin/stdout to the agent's socket

options:
  --host-name NAME   name of this host (default: the UTS hostname)
  --zone NAME        trust domain (default: local)
  --cgroup PATH      cgroup v2 directory to guard (default: the cgroup2 root)
  --pin-dir PATH     bpffs directory for pins (default: /sys/fs/bpf/palisade)
  --socket PATH      JSON-RPC socket (default: $PALISADE_SOCKET or ${DEFAULT_AGENT_SOCKET})
  --state-dir PATH   applied policy, audit log, flow history (default: /var/lib/palisade)
  --object PATH      BPF object (default: palisade.bpf.o next to this program)
  --health-interval-ms N  self-check period (default: 60000)
  --dns-grace-seconds N   how long an address keeps its DNS name past the answer's TTL
                          (default: 600; always while flows use it)
  --log-level LEVEL  debug|info|warn|error (default: info)`;

function socketFromEnv(): string {
    return process.env.PALISADE_SOCKET || DEFAULT_AGENT_SOCKET;
}

function ensureBpffs(): void {
    const mounts = fs.readFileSync('/proc/mounts', 'utf8');
    if (!/ \/sys\/fs\/bpf bpf /.test(mounts)) {
        throw new Error('bpffs is not mounted at /sys/fs/bpf (run: mount -t bpf bpf /sys/fs/bpf)');
    }
}

async function run(): Promise<number> {
    if (process.argv[2] === 'rpc') return runRpcBridge(socketFromEnv());

    const { values } = parseArgs({
        options: {
            'host-name': { type: 'string' },
            zone: { type: 'string', default: 'local' },
            cgroup: { type: 'string' },
            'pin-dir': { type: 'string', default: '/sys/fs/bpf/palisade' },
            socket: { type: 'string' },
            'state-dir': { type: 'string', default: '/var/lib/palisade' },
            object: { type: 'string', default: path.join(__dirname, 'palisade.bpf.o') },
            'log-level': { type: 'string', default: 'info' },
            'health-interval-ms': { type: 'string' },
            'dns-grace-seconds': { type: 'string' },
            help: { type: 'boolean', short: 'h' },
        },
    });
    if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
    }
    const host = values['host-name'] ?? os.hostname();
    const log = createLogger('agent', values['log-level'] as Level).child(host);

    const grace = values['dns-grace-seconds'];
    if (grace !== undefined && !/^\d+$/.test(grace)) {
        throw new Error(`--dns-grace-seconds: "${grace}" is not a whole number of seconds`);
    }
    if (process.getuid?.() !== 0) throw new Error('palisade-agent must run as root');
    ensureBpffs();
    const mount = cgroup2Mount();
    fs.mkdirSync(values['state-dir'], { recursive: true, mode: 0o700 });
    const agent = new Agent({
        host,
        zone: values.zone,
        objectPath: values.object,
        cgroupMount: mount,
        cgroupPath: values.cgroup ?? mount,
        pinDir: values['pin-dir'],
        socketPath: values.socket ?? socketFromEnv(),
        stateDir: values['state-dir'],
        log,
        ...(values['health-interval-ms']
            ? { healthIntervalMs: Number(values['health-interval-ms']) }
            : {}),
        ...(grace !== undefined ? { dnsGraceMs: Number(grace) * 1000 } : {}),
    });

    let stopping = false;
    const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info('stopping', { signal });
        await agent.stop();
        process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));

    await agent.start();
    log.info('agent started', agent.status() as unknown as Record<string, unknown>);
    return new Promise<number>(() => {
        // Runs until a signal stops it.
    });
}

run().then(
    (code) => process.exit(code),
    (err: unknown) => {
        process.stderr.write(
            `palisade-agent: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        process.exit(1);
    },
);
