// The "external" payment service (lab host "ext"), the demo's stand-in for a third party.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');

const LISTEN_HOST = process.env.PAYMENTS_LISTEN_HOST || '10.213.0.5';
const LISTEN_PORT = Number(process.env.PAYMENTS_LISTEN_PORT || 8080);

const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
        const ok = req.url === '/charge';
        res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
        res.end(
            JSON.stringify(ok ? { ok: true, id: crypto.randomUUID() } : { error: 'not found' }) +
                '\n',
        );
    });
});

server.listen(LISTEN_PORT, LISTEN_HOST, () =>
    console.log(`payments listening on ${LISTEN_HOST}:${LISTEN_PORT}`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
