#!/usr/bin/env bash
# Keys, generated configs and the processes of each lab host. Sourced after lab/lib.sh.

lab_write_keys() {
    ssh-keygen -q -t ed25519 -N '' -C palisade-lab-client -f "$LAB_RUN/id_ed25519"
    install -m 0600 "$LAB_RUN/id_ed25519.pub" "$LAB_RUN/authorized_keys"

    local host key
    : >"$LAB_RUN/known_hosts"
    for host in "${LAB_HOSTS[@]}"; do
        key="$LAB_RUN/$host/ssh_host_ed25519_key"
        ssh-keygen -q -t ed25519 -N '' -C "palisade-lab-$host" -f "$key"
        printf '%s %s\n' "${LAB_ADDR[$host]}" "$(cut -d' ' -f1,2 "$key.pub")" \
            >>"$LAB_RUN/known_hosts"
    done

    for host in "${LAB_HOSTS[@]}"; do
        printf 'Host %s\n' "$host"
        printf '    HostName %s\n' "${LAB_ADDR[$host]}"
        printf '    User root\n'
        printf '    IdentityFile %s/id_ed25519\n' "$LAB_RUN"
        printf '    IdentitiesOnly yes\n'
        printf '    UserKnownHostsFile %s/known_hosts\n' "$LAB_RUN"
        printf '    StrictHostKeyChecking yes\n\n'
    done >"$LAB_RUN/ssh_config"
}

lab_write_hosts_json() {
    local host sep=','
    {
        printf '[\n'
        for host in "${LAB_HOSTS[@]}"; do
            [[ $host == "${LAB_HOSTS[-1]}" ]] && sep=''
            printf '    {"name": %s, "address": %s, "socket": %s, "cgroup": %s, "pinDir": %s}%s\n' \
                "$(json_str "$host")" "$(json_str "${LAB_ADDR[$host]}")" \
                "$(json_str "$(lab_socket "$host")")" "$(json_str "$LAB_CG/$host")" \
                "$(json_str "$LAB_PIN_ROOT/$host")" "$sep"
        done
        printf ']\n'
    } >"$LAB_RUN/hosts.json"
}

lab_start_agent() {
    local host=$1 agent="$PALISADE_ROOT/bin/palisade-agent"
    [[ -x $agent ]] || die "no agent at $agent (build it, or set PALISADE_LAB_AGENT=0)"

    local -a args=(
        --host-name "$host" --zone "$LAB_ZONE" --cgroup "$LAB_CG/$host"
        --pin-dir "$LAB_PIN_ROOT/$host" --socket "$(lab_socket "$host")"
        --state-dir "$LAB_RUN/$host/state"
    )

    mkdir -p "$LAB_RUN/$host/state" "$LAB_PIN_ROOT/$host"
    lab_spawn "$host" "$LAB_AGENT_UNIT" "$agent" "${args[@]}"
}

# Sessions find the agent through SetEnv: clients run `exec "${PALISADE_AGENT:-...}" rpc`.
lab_start_sshd() {
    local host=$1
    local dir="$LAB_RUN/$host" env
    env="\"PALISADE_SOCKET=$(lab_socket "$host")\""
    env+=" \"PALISADE_AGENT=$PALISADE_ROOT/bin/palisade-agent\""
    env+=" \"PALISADE_NODE=$PALISADE_NODE\""
    mkdir -p /run/sshd
    lab_spawn "$host" sshd.service /usr/sbin/sshd -D -e -f /dev/null \
        -o "HostKey=$dir/ssh_host_ed25519_key" \
        -o "ListenAddress=${LAB_ADDR[$host]}:22" \
        -o PermitRootLogin=prohibit-password \
        -o PasswordAuthentication=no \
        -o KbdInteractiveAuthentication=no \
        -o UsePAM=no \
        -o "AuthorizedKeysFile=$LAB_RUN/authorized_keys" \
        -o "PidFile=$dir/sshd.pid" \
        -o "Subsystem=sftp internal-sftp" \
        -o "SetEnv=$env"
}

# Never forwards: no upstream servers, and everything under .lab is answered locally.
lab_start_resolver() {
    local -a records=("--host-record=payments.ext.lab,${LAB_ADDR[ext]}")
    local host
    for host in "${LAB_HOSTS[@]}"; do
        records+=("--host-record=$host.lab,${LAB_ADDR[$host]}")
    done
    lab_spawn _lab resolver.service /usr/sbin/dnsmasq --keep-in-foreground \
        --conf-file=/dev/null --no-resolv --no-hosts --no-poll --bind-interfaces \
        --listen-address="$LAB_BRIDGE_ADDR" --port 53 --local=/lab/ "${records[@]}" \
        --pid-file="$LAB_RUN/_lab/dnsmasq.pid" --log-facility=- --log-queries
}

lab_start_redis() {
    local dir="$LAB_RUN/db"
    mkdir -p "$dir/redis"
    cat >"$dir/redis.conf" <<EOF
bind ${LAB_ADDR[db]}
port 6379
protected-mode no
daemonize no
save ""
appendonly no
dir $dir/redis
pidfile $dir/redis.pid
logfile ""
EOF
    lab_spawn db redis.service /usr/bin/redis-server "$dir/redis.conf"
}

# Temp paths for every module compiled in, so that nginx writes nothing outside the lab.
lab_nginx_temp_paths() {
    local dir=$1 flags mod
    flags=$(/usr/sbin/nginx -V 2>&1)
    printf '    client_body_temp_path %s/body;\n    proxy_temp_path %s/proxy;\n' "$dir" "$dir"
    for mod in fastcgi uwsgi scgi; do
        [[ $flags == *"--without-http_${mod}_module"* ]] && continue
        printf '    %s_temp_path %s/%s;\n' "$mod" "$dir" "$mod"
    done
}

# NOTE: workers run as root because the lab tree under /run/palisade-lab is 0700.
lab_start_nginx() {
    local dir="$LAB_RUN/web/nginx"
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log stderr;

events {
    worker_connections 256;
}

http {
    access_log $dir/access.log;
$(lab_nginx_temp_paths "$dir")

    # No keepalive: every proxied request is a new connection the agents can see.
    upstream api {
        server ${LAB_ADDR[api]}:3000;
    }

    server {
        listen ${LAB_ADDR[web]}:80;
        location / {
            proxy_pass http://api;
        }
    }
}
EOF
    lab_spawn web nginx.service /usr/sbin/nginx -p "$dir" -e stderr -c "$dir/nginx.conf" \
        -g 'daemon off;'
}

lab_start_demo() {
    local demo="$PALISADE_ROOT/lab/demo" bash
    bash=$(command -v bash)

    lab_start_redis
    lab_spawn ext payments.service "$PALISADE_NODE" "$demo/payments.js"
    lab_spawn api api.service "$PALISADE_NODE" "$demo/api.js"
    lab_spawn api batch.service "$bash" "$demo/batch.sh"
    lab_start_nginx
    lab_spawn web intruder.service "$bash" "$demo/intruder.sh"

    lab_wait_listen db redis.service tcp "${LAB_ADDR[db]}" 6379
    lab_wait_listen ext payments.service tcp "${LAB_ADDR[ext]}" 8080
    lab_wait_listen api api.service tcp "${LAB_ADDR[api]}" 3000
    lab_wait_listen web nginx.service tcp "${LAB_ADDR[web]}" 80
}
