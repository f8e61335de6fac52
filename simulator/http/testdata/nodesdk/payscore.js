'use strict';
// Drives payscore-sim with the Node SDK wechatpay-axios-plugin, unmodified, as a merchant's
// back end would: it signs as the demo merchant and verifies every answer's Wechatpay-Signature
// against the platform certificate. The only change from production is the SDK's documented
// baseURL option, which points it at the simulator.
//
//   node payscore.js SIMULATOR_URL OUT_ORDER_NO NOTIFY_URL
//
// It prints one JSON object: the certificates it downloaded and decrypted, and the create and
// query calls, each with the answer or the error the SDK reported. It exits 0 whatever the
// simulator answered; the caller (sdk_node_test.go) judges the results.

const { X509Certificate } = require('node:crypto');
const { Wechatpay, Aes } = require('wechatpay-axios-plugin');

// loopback refuses any base URL off this machine: the simulator runs here, and no request may
// leave for the internet.
function loopback(raw) {
  const u = new URL(raw);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
    throw new Error(`refusing ${raw}: the simulator must be on loopback`);
  }
  return u.href;
}

// demoCredentials reads the demo merchant's keys from the simulator (not through the SDK: this
// stands for the merchant platform, where a merchant downloads them).
async function demoCredentials(base) {
  const res = await fetch(new URL('sim/v1/demo-credentials', base));
  if (!res.ok) throw new Error(`GET /sim/v1/demo-credentials: HTTP ${res.status}`);
  return res.json();
}

// newClient is the demo merchant's client; the README shows it (sdk_node_test.go checks that).
// README: node
function newClient(simURL, c) {
  return new Wechatpay({
    mchid: c.mchid,
    serial: c.merchant_serial_no,
    privateKey: c.merchant_private_key_pem,
    certs: { [c.platform_serial_no]: c.platform_certificate_pem }, // every answer is verified
    baseURL: simURL, // e.g. http://127.0.0.1:8080/ instead of https://api.mch.weixin.qq.com/
    proxy: false, // no HTTP(S)_PROXY from the environment: the simulator is on loopback
  });
}
// README: end

// outcome runs an SDK call and describes what it gave: the answer, or the error the SDK threw
// (an HTTP error, or a response whose signature did not verify).
async function outcome(call) {
  try {
    const res = await call();
    return {
      status: res.status,
      data: res.data,
      sent: { accept: res.config.headers.get('Accept'), user_agent: res.config.headers.get('User-Agent') },
    };
  } catch (err) {
    const { response } = err;
    return { error: { sdk_code: err.code, message: err.message, status: response && response.status, data: response && response.data } };
  }
}

// certificates downloads the platform certificates through the SDK (its answer verified like
// any other) and decrypts each with the APIv3 key, as the SDK's own `wxpay crt` does.
async function certificates(wxpay, creds) {
  const got = await outcome(() => wxpay.v3.certificates.get());
  if (got.error) return got;
  return {
    status: got.status,
    certificates: got.data.data.map(({ serial_no: serial, encrypt_certificate: enc }) => {
      const pem = Aes.AesGcm.decrypt(enc.ciphertext, creds.api_v3_key, enc.nonce, enc.associated_data);
      return { serial_no: serial, decrypted_serial: new X509Certificate(pem).serialNumber };
    }),
  };
}

async function main([rawBase, outOrderNo, notifyURL]) {
  if (!rawBase || !outOrderNo || !notifyURL) throw new Error('usage: node payscore.js SIMULATOR_URL OUT_ORDER_NO NOTIFY_URL');
  const base = loopback(rawBase.endsWith('/') ? rawBase : `${rawBase}/`);
  const creds = await demoCredentials(base);
  const wxpay = newClient(base, creds);
  const result = { certificates: await certificates(wxpay, creds) };
  result.create = await outcome(() => wxpay.v3.payscore.serviceorder.post({
    out_order_no: outOrderNo,
    appid: creds.appid,
    service_id: creds.service_id,
    service_introduction: '共享充电宝',
    post_payments: [{ name: '租借费', amount: 300, description: '每小时3元' }],
    time_range: { start_time: 'OnAccept' },
    risk_fund: { name: 'ESTIMATE_ORDER_COST', amount: 9900, description: '充电宝预估费用' },
    notify_url: notifyURL,
    need_user_confirm: true,
  }));
  result.query = await outcome(() => wxpay.v3.payscore.serviceorder.get({
    params: { out_order_no: outOrderNo, service_id: creds.service_id, appid: creds.appid },
  }));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
