// The demo API (lab host "api"): counts hits in redis and, every fifth request, charges
// through the external payment service, reached by DNS name like a real third party.
'use strict';

const http = require('node:http');
const net = require('node:net');
const os = require('node:os');

const LISTEN_HOST = process.env.API_LISTEN_HOST || '10.213.0.3';
const LISTEN_PORT = Number(process.env.API_LISTEN_PORT || 3000);
const REDIS_HOST = process.env.API_REDIS_HOST || '10.213.0.4';
const REDIS_PORT = Number(process.env.API_REDIS_PORT || 6379);
const PAYMENTS_URL = process.env.API_PAYMENTS_URL || 'http://payments.ext.lab:8080/charge';
const TIMEOUT_MS = 2000;

/** One RESP command on a fresh connection; resolves with the first reply line. */
function redisCommand(...args) {
    const request =
        `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
    return new Promise((resolve, reject) => {
        const socket = net.connect({ host: REDIS_HOST, port: REDIS_PORT });
        let buffer = '';
        socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('redis timeout')));
        socket.on('connect', () => socket.write(request));
        socket.on('data', (chunk) => {
            buffer += chunk.toString('latin1');
            const end = buffer.indexOf('\r\n');
            if (end < 0) return;
            const line = buffer.slice(0, end);
            socket.end();
            if (line.startsWith('-')) reject(new Error(`redis: ${line.slice(1)}`));
            else resolve(line.slice(1));
        });
        socket.on('error', reject);
        socket.on('close', () => reject(new Error('redis closed the connection')));
    });
}

function charge() {
    return new Promise((resolve, reject) => {
        const req = http.request(PAYMENTS_URL, {
            method: 'POST',
            agent: false,
            timeout: TIMEOUT_MS,
            headers: { 'content-type': 'application/json' },
        });
        req.on('timeout', () => req.destroy(new Error('payments timeout')));
        req.on('response', (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c) => (body += c));
            res.on('end', () => {
                if (res.statusCode !== 200) return reject(new Error(`payments: ${res.statusCode}`));
                try {
                    resolve(JSON.parse(body));
                } catch (err) {
                    reject(err);
                }
            });
        });
        req.on('error', reject);
        req.end('{"amount":100}');
    });
}

let requests = 0;

const server = http.createServer(async (req, res) => {
    requests += 1;
    const n = requests;
    try {
        const hits = Number(await redisCommand('INCR', 'api:hits'));
        const payment = n % 5 === 0 ? await charge() : undefined;
        send(res, 200, { host: os.hostname(), hits, payment });
    } catch (err) {
        console.error(`request ${n}: ${err.message}`);
        send(res, 502, { error: 'backend unavailable' });
    }
});

function send(res, status, body) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body) + '\n');
}

server.listen(LISTEN_PORT, LISTEN_HOST, () =>
    console.log(`api listening on ${LISTEN_HOST}:${LISTEN_PORT}`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
