'use strict';
// Starts a live payscore-sim for a test file and talks to it as the demo merchant's back end
// would: APIv3 requests signed with node:crypto, the front-end detail sign with the APIv2 key.

const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../../..');

function goBinary() {
  if (process.env.GO) return process.env.GO;
  return fs.existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
}

// startSimulator builds ./cmd/payscore-sim (unless PAYSCORE_SIM_BIN names a binary), runs it on
// a free loopback port with an in-memory database and resolves once it printed its address.
async function startSimulator() {
  let bin = process.env.PAYSCORE_SIM_BIN;
  let tmp;
  if (!bin) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'payscore-sim-shim-'));
    bin = path.join(tmp, 'payscore-sim');
    execFileSync(goBinary(), ['build', '-o', bin, './cmd/payscore-sim'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const proc = spawn(bin, ['--addr', '127.0.0.1:0', '--db', ':memory:'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('payscore-sim did not print its address in 10 s:\n' + out + stderr)), 10000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`payscore-sim exited (${code}) before listening:\n${out}${stderr}`)); });
  });
  proc.removeAllListeners('exit');
  const creds = await (await fetch(url + '/sim/v1/demo-credentials')).json();
  return {
    url,
    creds,
    stop() {
      proc.kill();
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

// apiv3 sends a request signed as the demo merchant:
// RSA-SHA256 over "METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n".
async function apiv3(sim, method, target, body) {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = crypto.randomBytes(16).toString('hex');
  const signature = crypto.createSign('RSA-SHA256')
    .update(`${method}\n${target}\n${ts}\n${nonce}\n${payload}\n`)
    .sign(sim.creds.merchant_private_key_pem, 'base64');
  const c = sim.creds;
  const headers = {
    Accept: 'application/json',
    Authorization: `WECHATPAY2-SHA256-RSA2048 mchid="${c.mchid}",nonce_str="${nonce}",timestamp="${ts}",serial_no="${c.merchant_serial_no}",signature="${signature}"`,
  };
  if (payload) headers['Content-Type'] = 'application/json';
  const resp = await fetch(sim.url + target, { method, headers, body: payload || undefined });
  const text = await resp.text();
  let data;
  try { data = JSON.parse(text); } catch { data = text; }
  return { status: resp.status, data };
}

// chinaTime formats a Date as WeChat's yyyyMMddHHmmss in China Standard Time.
function chinaTime(d) {
  return new Date(d.getTime() + 8 * 3600e3).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

// createOrder creates a confirm-mode order and returns its package.
async function createOrder(sim, outOrderNo) {
  const res = await apiv3(sim, 'POST', '/v3/payscore/serviceorder', {
    out_order_no: outOrderNo,
    appid: sim.creds.appid,
    service_id: sim.creds.service_id,
    service_introduction: '共享充电宝',
    time_range: { start_time: 'OnAccept', end_time: chinaTime(new Date(Date.now() + 3 * 3600e3)) },
    risk_fund: { name: 'DEPOSIT', amount: 9900 },
    notify_url: 'https://merchant.example.com/payscore/notify',
  });
  if (res.status !== 200 || !res.data.package) throw new Error(`create ${outOrderNo}: ${res.status} ${JSON.stringify(res.data)}`);
  return res.data.package;
}

// queryOrder queries by out_order_no or query_id, as the merchant's back end does.
async function queryOrder(sim, key, value) {
  const q = new URLSearchParams({ [key]: value, service_id: sim.creds.service_id, appid: sim.creds.appid });
  const res = await apiv3(sim, 'GET', '/v3/payscore/serviceorder?' + q.toString());
  if (res.status !== 200) throw new Error(`query ${key}=${value}: ${res.status} ${JSON.stringify(res.data)}`);
  return res.data;
}

// detailExtraData is the signed wxpayScoreDetail form: HMAC-SHA256 with the APIv2 key over the
// sorted fields, then &key=, upper-case hex.
function detailExtraData(sim, outOrderNo) {
  const p = {
    mch_id: sim.creds.mchid,
    service_id: sim.creds.service_id,
    out_order_no: outOrderNo,
    timestamp: String(Math.floor(Date.now() / 1000)),
    nonce_str: crypto.randomBytes(16).toString('hex'),
    sign_type: 'HMAC-SHA256',
  };
  const str = Object.keys(p).sort().map((k) => `${k}=${p[k]}`).join('&') + '&key=' + sim.creds.api_v2_key;
  p.sign = crypto.createHmac('sha256', sim.creds.api_v2_key).update(str).digest('hex').toUpperCase();
  return p;
}

async function control(sim, method, path, body) {
  const resp = await fetch(sim.url + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: resp.status, data: await resp.json() };
}

// visitsOf lists the visits of one of the demo merchant's orders, newest first.
async function visitsOf(sim, outOrderNo) {
  const q = new URLSearchParams({ mchid: sim.creds.mchid, out_order_no: outOrderNo });
  return (await control(sim, 'GET', '/sim/v1/visits?' + q.toString())).data.data;
}

module.exports = { startSimulator, apiv3, createOrder, queryOrder, detailExtraData, control, visitsOf, chinaTime };
