'use strict';
// What the shim's test files share: the labels the simulator gives the Pay Score page's actions,
// waiting, and a fake mini-program booted as a dev build's app.js would boot it.

const shim = require('../payscore-sim-miniprogram.js');
const { createRuntime, merchantApp } = require('./fake-wx.js');

const PAYSCORE = 'wxd8f3793ea3b935b8';
const CONFIRM = '确认订单 confirm';
const RETURN = '返回商户 return with params';
const BACK = '左上角返回 back icon without params';
const AUTHORIZE = '同意并开启 authorize';
const DECLINE = '不确认并返回 decline, return with params';
const NOT_ELIGIBLE = '暂不满足 not eligible (low score)';
const ANDROID_BACK = '手机返回键 android back button';
// The sheets the visit offers: an unconfirmed order's page, and a page left only by returning.
const USE_SHEET = [CONFIRM, DECLINE, NOT_ELIGIBLE, BACK, ANDROID_BACK];
const LEAVE_SHEET = [RETURN, BACK, ANDROID_BACK];
// What openBusinessView's success gets after the back icon, or a return without a query_id.
const OK = { errMsg: 'openBusinessView:ok', errCode: 0 };
const PAGE = 'pages/order/order'; // the merchant page on top when it opens Pay Score

let orderSeq = 0;
function orderNo(name) { return `shim-${name}-${process.pid}-${++orderSeq}`; }

async function waitFor(what, cond, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

// merchant boots a fake mini-program as a dev build's app.js would: the shim installed first
// (with install's other options), then App({...}) and two wx.onAppShow listeners (and one
// wx.onAppHide listener). app, when given, edits the App options before App() runs.
function merchant(t, sim, { sheets, nativeOpenBusinessView, app: editApp, wx: editWx, ...options } = {}) {
  const rt = createRuntime({ sheets, nativeOpenBusinessView, route: PAGE }).install();
  if (editWx) editWx(rt.wx);
  const originals = { ...rt.wx };
  shim.install({ simulator: sim.url, wx: rt.wx, ...options });
  const app = merchantApp(rt);
  if (editApp) editApp(app.options, rt);
  App(app.options); // the global App, as app.js calls it
  const shown = [[], []];
  const hidden = [];
  rt.wx.onAppShow(function () { shown[0].push([...arguments]); rt.events.push('onAppShow#1'); });
  rt.wx.onAppShow(function () { shown[1].push([...arguments]); rt.events.push('onAppShow#2'); });
  rt.wx.onAppHide(function () { hidden.push([...arguments]); rt.events.push('onAppHide'); });
  t.after(() => { shim.uninstall(); rt.remove(); });
  return { rt, wx: rt.wx, app, log: app.log, shown, hidden, originals };
}

// callbacks are success/fail/complete that record their argument.
function callbacks(rt) {
  const got = { success: [], fail: [], complete: [] };
  for (const k of Object.keys(got)) {
    got[k + 'Fn'] = (res) => { got[k].push(res); rt.events.push(k); };
  }
  return { got, cbs: { success: got.successFn, fail: got.failFn, complete: got.completeFn } };
}

module.exports = {
  PAYSCORE, CONFIRM, RETURN, BACK, AUTHORIZE, DECLINE, NOT_ELIGIBLE, ANDROID_BACK, USE_SHEET, LEAVE_SHEET, OK, PAGE,
  orderNo, waitFor, settle, merchant, callbacks,
};
