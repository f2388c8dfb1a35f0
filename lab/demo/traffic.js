// Steady demo traffic from the root netns to the web tier, so the lab always has flows to
// show. Bounded: it stops by itself after PALISADE_LAB_TRAFFIC_SECONDS.
'use strict';

const http = require('node:http');

const URL = process.env.PALISADE_LAB_TRAFFIC_URL || 'http://10.213.0.2/';
const INTERVAL_MS = 250;
const SECONDS = Number(process.env.PALISADE_LAB_TRAFFIC_SECONDS || 3600);
const REPORT_EVERY = 40;

const counts = { ok: 0, failed: 0 };
const stopAt = Date.now() + SECONDS * 1000;

function once() {
    const req = http.get(URL, { agent: false, timeout: 2000 }, (res) => {
        res.resume();
        counts[res.statusCode === 200 ? 'ok' : 'failed'] += 1;
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => (counts.failed += 1));
}

let sent = 0;
const timer = setInterval(() => {
    if (Date.now() >= stopAt) {
        clearInterval(timer);
        console.log(`traffic: done after ${SECONDS} s (ok ${counts.ok}, failed ${counts.failed})`);
        return;
    }
    once();
    sent += 1;
    if (sent % REPORT_EVERY === 0) console.log(`traffic: ok ${counts.ok}, failed ${counts.failed}`);
}, INTERVAL_MS);

process.on('SIGTERM', () => process.exit(0));
