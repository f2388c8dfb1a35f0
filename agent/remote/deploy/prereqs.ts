// Kernel and userland prerequisites of the agent, checked on the target before anything is
// uploaded. The probe is one POSIX sh script that prints `key=value` lines; the verdict is
// computed here (pure, unit-tested) so every missing piece is named, not just the first.

export const MIN_KERNEL: [number, number] = [5, 8];
export const MIN_NODE = 20;

/** Runs as the login user; reads only, changes nothing. */
export const PREREQ_SCRIPT = `
echo "uid=$(id -u)"
echo "kernel=$(uname -r)"
echo "arch=$(uname -m)"
[ -r /sys/kernel/btf/vmlinux ] && echo btf=yes || echo btf=no
echo "cgroup2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)"
echo "bpffs=$(awk '$3 == "bpf" { print $2; exit }' /proc/mounts)"
node_bin=$(command -v node 2>/dev/null || true)
if [ -z "$node_bin" ] && [ -n "\${PALISADE_NODE:-}" ] && [ -x "$PALISADE_NODE" ]; then
    node_bin=$PALISADE_NODE
fi
echo "node=$node_bin"
[ -n "$node_bin" ] && echo "nodeVersion=$("$node_bin" --version 2>/dev/null)"
[ -d /run/systemd/system ] && echo systemd=yes || echo systemd=no
[ -r /run/palisade-lab/hosts.json ] && echo "lab=$(hostname)"
libs='/usr/lib/*/libbpf.so.1 /usr/lib64/libbpf.so.1 /usr/lib/libbpf.so.1'
echo "libbpf=$(ls $libs 2>/dev/null | head -n1)"
`;

export interface Prereqs {
    uid: number;
    kernel: string;
    arch: string;
    btf: boolean;
    cgroup2?: string;
    bpffs?: string;
    node?: string;
    nodeVersion?: string;
    systemd: boolean;
    libbpf?: string;
    /** The UTS name, when the host is one of the embedded lab's. */
    lab?: string;
}

export function parsePrereqs(text: string): Prereqs {
    const kv = new Map<string, string>();
    for (const line of text.split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    const opt = (k: string) => (kv.get(k) ? { [k]: kv.get(k) as string } : {});
    return {
        uid: Number(kv.get('uid') ?? NaN),
        kernel: kv.get('kernel') ?? '',
        arch: kv.get('arch') ?? '',
        btf: kv.get('btf') === 'yes',
        systemd: kv.get('systemd') === 'yes',
        ...opt('cgroup2'),
        ...opt('bpffs'),
        ...opt('node'),
        ...opt('nodeVersion'),
        ...opt('libbpf'),
        ...opt('lab'),
    };
}

/** Every missing prerequisite, worded for the person who has to fix it. */
export function missingPrereqs(p: Prereqs): string[] {
    const out: string[] = [];
    if (p.uid !== 0) out.push(`must log in as root (uid is ${Number.isNaN(p.uid) ? '?' : p.uid})`);
    const [major, minor] = p.kernel.split(/[.-]/).map(Number);
    const [wantMajor, wantMinor] = MIN_KERNEL;
    if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) {
        out.push(`unknown kernel version "${p.kernel}"`);
    } else if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
        out.push(`kernel ${p.kernel} is older than ${wantMajor}.${wantMinor}`);
    }
    if (p.arch !== 'x86_64')
        out.push(`architecture ${p.arch || '?'} (the bundle is built for x86_64)`);
    if (!p.btf) out.push('no kernel BTF (/sys/kernel/btf/vmlinux; needs CONFIG_DEBUG_INFO_BTF)');
    if (!p.cgroup2) out.push('no cgroup v2 mount (mount -t cgroup2 none /sys/fs/cgroup)');
    if (!p.libbpf) out.push('no libbpf.so.1 (install libbpf1 / libbpf)');
    if (!p.node) {
        out.push(`no Node.js (need >= ${MIN_NODE})`);
    } else {
        const v = Number(/^v?(\d+)/.exec(p.nodeVersion ?? '')?.[1] ?? NaN);
        if (Number.isNaN(v) || v < MIN_NODE) {
            out.push(`Node.js ${p.nodeVersion ?? '?'} at ${p.node} is older than ${MIN_NODE}`);
        }
    }
    // bpffs missing is fixed by the installer (mount -t bpf), so it is not a blocker.
    return out;
}
