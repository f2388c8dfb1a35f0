// Where a process runs, read from its cgroup v2 path: systemd unit and slice, container
// runtime and id, Kubernetes pod uid and QoS class. Pure string work: the path is whatever
// the kernel reports, and a workload can name its own scopes, so nothing here trusts it
// beyond the shape it must have.
import type { ContainerContext, PodContext } from '../protocol';

export interface CgroupContext {
    unit?: string;
    slice?: string;
    container?: ContainerContext;
    pod?: PodContext;
}

const ID = '([0-9a-f]{64})';
// `<prefix>-<id>.scope`, the systemd cgroup driver's naming for each runtime.
const SCOPES: [RegExp, string][] = [
    [new RegExp(`^docker-${ID}\\.scope$`), 'docker'],
    [new RegExp(`^cri-containerd-${ID}\\.scope$`), 'containerd'],
    [new RegExp(`^nerdctl-${ID}\\.scope$`), 'containerd'],
    [new RegExp(`^crio-${ID}\\.scope$`), 'cri-o'],
    [new RegExp(`^libpod-${ID}\\.scope$`), 'podman'],
];
// Runtime helpers beside a container (conmon): part of the pod, not the container.
const MONITOR = new RegExp(`^(crio|libpod)-conmon-${ID}\\.scope$`);
const BARE_ID = new RegExp(`^${ID}$`);
const POD_UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const QOS = new Set(['burstable', 'besteffort']);

/** The v2 line of a `/proc/<pid>/cgroup` file (`0::/path`), or undefined on a v1-only host. */
export function cgroupFromProcFile(text: string): string | undefined {
    for (const line of text.split('\n')) {
        if (line.startsWith('0::')) return line.slice(3) || '/';
    }
    return undefined;
}

export function cgroupContext(cgroupPath: string): CgroupContext {
    const parts = cgroupPath.split('/').filter(Boolean);
    const ctx: CgroupContext = {};

    // Nesting happens (a kind node is itself a docker container): the innermost wins, so
    // every step below may overwrite what an outer component set.
    let parentDir = '';
    let kubepods = false;
    for (const part of parts) {
        kubepods ||= /^(kubelet-)?kubepods(\.slice)?$/.test(part);
        const container = containerOf(part, parentDir);
        if (container) {
            ctx.container = container;
            // A container's scope is not a unit anyone manages: its name is an instance id.
            delete ctx.unit;
        } else if (part.endsWith('.slice')) {
            ctx.slice = part;
        } else if (/\.(service|scope)$/.test(part) && !MONITOR.test(part)) {
            ctx.unit = part;
        }
        const pod = kubepods ? podOf(part, parentDir) : undefined;
        if (pod) ctx.pod = pod;
        parentDir = part;
    }
    return ctx;
}

function containerOf(part: string, parentDir: string): ContainerContext | undefined {
    for (const [re, runtime] of SCOPES) {
        const m = re.exec(part);
        if (m?.[1]) return { runtime, id: m[1] };
    }
    const bare = BARE_ID.exec(part);
    if (!bare?.[1]) return undefined;
    // cgroupfs driver: `/docker/<id>`, `/kubepods/<qos>/pod<uid>/<id>`, lxc, containerd's
    // per-namespace `/k8s.io/<id>` and `/default/<id>`.
    if (parentDir === 'docker') return { runtime: 'docker', id: bare[1] };
    if (parentDir === 'k8s.io' || parentDir === 'default' || parentDir === 'moby') {
        return { runtime: parentDir === 'moby' ? 'docker' : 'containerd', id: bare[1] };
    }
    // Under a pod directory the runtime is not named by the path.
    if (/^pod[0-9a-f-]{36}$/.test(parentDir)) return { runtime: 'cri', id: bare[1] };
    return undefined;
}

function podOf(part: string, parentDir: string): PodContext | undefined {
    // systemd driver: `kubepods-burstable-pod<uid_with_underscores>.slice`, also with a
    // `kubelet-` prefix when the kubelet's cgroup root is /kubelet (kind).
    const sd = /^(?:kubelet-)?kubepods(?:-(burstable|besteffort))?-pod([0-9a-f_]{36})\.slice$/.exec(
        part,
    );
    if (sd?.[2]) {
        const uid = sd[2].replace(/_/g, '-');
        if (POD_UID.test(uid)) return { uid, qos: qosOf(sd[1]) };
    }
    // cgroupfs driver: `/kubepods/<qos>/pod<uid>` or `/kubepods/pod<uid>` (guaranteed).
    const fs = /^pod([0-9a-f-]{36})$/.exec(part);
    if (fs?.[1] && POD_UID.test(fs[1])) {
        if (parentDir === 'kubepods') return { uid: fs[1], qos: 'guaranteed' };
        if (QOS.has(parentDir)) return { uid: fs[1], qos: qosOf(parentDir) };
    }
    return undefined;
}

function qosOf(name: string | undefined): PodContext['qos'] {
    return name === 'burstable' || name === 'besteffort' ? name : 'guaranteed';
}
