// The slice of libbpf.so.1 (1.1 or newer) that the agent calls, through koffi.
// Every function used here exists in libbpf 1.1; do not add newer ones without a fallback.
import koffi from 'koffi';

export type Ptr = unknown;

const lib = koffi.load('libbpf.so.1');
const libc = koffi.load('libc.so.6');

koffi.opaque('bpf_object');
koffi.opaque('bpf_program');
koffi.opaque('bpf_map');
koffi.opaque('bpf_link');
koffi.opaque('ring_buffer');

export const RingSampleFn = koffi.proto('int RingSampleFn(void *ctx, void *data, size_t size)');
// va_list is passed as a pointer on x86_64 and arm64, so vsnprintf can format it.
export const PrintFn = koffi.proto('int PrintFn(int level, const char *fmt, void *ap)');

export const bpf = {
    objectOpenFile: lib.func('bpf_object *bpf_object__open_file(const char *path, void *opts)'),
    objectLoad: lib.func('int bpf_object__load(bpf_object *obj)'),
    objectClose: lib.func('void bpf_object__close(bpf_object *obj)'),
    findProgram: lib.func(
        'bpf_program *bpf_object__find_program_by_name(bpf_object *obj, const char *name)',
    ),
    findMap: lib.func('bpf_map *bpf_object__find_map_by_name(bpf_object *obj, const char *name)'),
    mapFd: lib.func('int bpf_map__fd(bpf_map *map)'),
    mapSetPinPath: lib.func('int bpf_map__set_pin_path(bpf_map *map, const char *path)'),
    mapUnpin: lib.func('int bpf_map__unpin(bpf_map *map, const char *path)'),
    mapLookup: lib.func(
        'int bpf_map__lookup_elem(bpf_map *map, const void *key, size_t ksz, ' +
            '_Out_ void *value, size_t vsz, uint64_t flags)',
    ),
    mapUpdate: lib.func(
        'int bpf_map__update_elem(bpf_map *map, const void *key, size_t ksz, ' +
            'const void *value, size_t vsz, uint64_t flags)',
    ),
    mapDelete: lib.func(
        'int bpf_map__delete_elem(bpf_map *map, const void *key, size_t ksz, uint64_t flags)',
    ),
    mapGetNextKey: lib.func(
        'int bpf_map__get_next_key(bpf_map *map, const void *cur, _Out_ void *next, size_t ksz)',
    ),
    programAttach: lib.func('bpf_link *bpf_program__attach(bpf_program *prog)'),
    programAttachCgroup: lib.func(
        'bpf_link *bpf_program__attach_cgroup(bpf_program *prog, int cgroup_fd)',
    ),
    linkPin: lib.func('int bpf_link__pin(bpf_link *link, const char *path)'),
    linkUnpin: lib.func('int bpf_link__unpin(bpf_link *link)'),
    linkOpen: lib.func('bpf_link *bpf_link__open(const char *path)'),
    linkDestroy: lib.func('int bpf_link__destroy(bpf_link *link)'),
    libbpfGetError: lib.func('long libbpf_get_error(const void *ptr)'),
    setPrint: lib.func('void *libbpf_set_print(PrintFn *fn)'),
    ringNew: lib.func(
        'ring_buffer *ring_buffer__new(int map_fd, RingSampleFn *cb, void *ctx, void *opts)',
    ),
    ringConsume: lib.func('int ring_buffer__consume(ring_buffer *rb)'),
    ringEpollFd: lib.func('int ring_buffer__epoll_fd(ring_buffer *rb)'),
    ringFree: lib.func('void ring_buffer__free(ring_buffer *rb)'),
};

export const c = {
    vsnprintf: libc.func('int vsnprintf(_Out_ uint8_t *buf, size_t n, const char *fmt, void *ap)'),
    strerror: libc.func('const char *strerror(int errnum)'),
};

/** libbpf returns NULL and sets errno on failure (libbpf 1.0 mode). */
export function failed(ptr: Ptr): boolean {
    return ptr === null || ptr === undefined;
}

export function lastError(): string {
    const errno = koffi.errno();
    return `${c.strerror(errno)} (errno ${errno})`;
}

export function errorText(ret: number): string {
    return `${c.strerror(-ret)} (errno ${-ret})`;
}

/** Raw memory of a callback pointer argument, copied out before the callback returns. */
export function copyOut(ptr: Ptr, size: number): Buffer {
    return Buffer.from(new Uint8Array(koffi.view(ptr, size)));
}

export { koffi };
