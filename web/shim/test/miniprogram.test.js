'use strict';
// The mini-program shim in a fake mini-program runtime, against a live payscore-sim.
// Run: node --test web/shim/test/   (PAYSCORE_SIM_BIN=<binary> skips the go build)

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');

const shim = require('../payscore-sim-miniprogram.js');
const { createRuntime, merchantApp, LAUNCH } = require('./fake-wx.js');
const { startSimulator, apiv3, createOrder, queryOrder, detailExtraData, control, visitsOf } = require('./simulator.js');

const {
  PAYSCORE, CONFIRM, RETURN, BACK, AUTHORIZE, USE_SHEET, LEAVE_SHEET, OK, PAGE, orderNo, waitFor, settle, callbacks,
  merchant: bootMerchant,
} = require('./harness.js');

let sim;
before(async () => { sim = await startSimulator(); });
after(() => { if (sim) sim.stop(); });

const merchant = (t, options) => bootMerchant(t, sim, options);

// assertReturned checks that App.onShow and both onAppShow listeners got exactly `want`, once,
// as one object which wx.getEnterOptionsSync returns from then on.
function assertReturned(m, want) {
  assert.equal(m.log.onShow.length, 1, 'App.onShow calls');
  const [call] = m.log.onShow;
  assert.equal(call.args.length, 1);
  assert.deepStrictEqual(call.args[0], want);
  assert.equal(call.self, m.app.options, 'App.onShow is called on the App');
  for (const listener of m.shown) {
    assert.equal(listener.length, 1, 'onAppShow listener calls');
    assert.equal(listener[0].length, 1);
    assert.equal(listener[0][0], call.args[0], 'listeners get the same object as App.onShow');
  }
  assert.equal(m.wx.getEnterOptionsSync(), call.args[0]);
}

function assertLeft(m) {
  assert.deepStrictEqual(m.log.onHide.map((c) => c.args), [[]], 'App.onHide once, no arguments');
  assert.deepStrictEqual(m.hidden, [[]], 'onAppHide listener once, no arguments');
}

// visitCount counts the simulator's visits (its list answers data: null when there are none).
async function visitCount() {
  return ((await control(sim, 'GET', '/sim/v1/visits?limit=1000')).data.data || []).length;
}

async function onlyVisit(no) {
  const visits = await visitsOf(sim, no);
  assert.equal(visits.length, 1, 'visits of ' + no);
  return (await control(sim, 'GET', '/sim/v1/visits/' + visits[0].visit_id)).data;
}

test('wxpayScoreUse: confirm, then return with params → onShow gets a query_id that resolves to the DOING order', async (t) => {
  const m = merchant(t, { sheets: [CONFIRM, RETURN] });
  const { got, cbs } = callbacks(m.rt);
  const no = orderNo('use-return');
  const pkg = await createOrder(sim, no);

  const ret = m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: pkg }, ...cbs });
  assert.equal(ret, undefined, 'no Promise when callbacks are given');
  await waitFor('App.onShow', () => m.log.onShow.length === 1);
  await settle();

  const visit = await onlyVisit(no);
  assert.equal(visit.outcome, 'return_with_params');
  const queryID = visit.query_id;
  assert.ok(queryID, 'the visit has a query_id');
  // success comes when the user is back, after App.onShow, with errCode 0 and the query_id.
  assert.deepStrictEqual(got.success, [{ errMsg: 'openBusinessView:ok', errCode: 0, extraData: { query_id: queryID } }]);
  assert.deepStrictEqual(got.fail, []);
  assert.equal(got.complete.length, 1);
  assert.equal(got.complete[0], got.success[0], 'complete gets the success object');
  assert.deepStrictEqual(m.rt.sheets, [USE_SHEET, LEAVE_SHEET]);
  assert.deepStrictEqual(m.rt.events, [
    'App()', 'App.onHide', 'onAppHide',
    `sheet:${USE_SHEET.join(' | ')}`, `tap:${CONFIRM}`, `sheet:${LEAVE_SHEET.join(' | ')}`, `tap:${RETURN}`,
    'App.onShow', 'onAppShow#1', 'onAppShow#2', 'success', 'complete',
  ]);
  assertLeft(m);
  assertReturned(m, {
    scene: 1038, path: PAGE, query: {},
    referrerInfo: { appId: PAYSCORE, extraData: { query_id: queryID } },
  });
  assert.equal(m.app.options.globalData.query_id, queryID, "the official sample's onShow read query_id");

  const order = await queryOrder(sim, 'query_id', queryID);
  assert.equal(order.out_order_no, no);
  assert.equal(order.state, 'DOING');
  assert.deepStrictEqual(m.rt.errors, []);
});

test('wxpayScoreUse: confirm, then the back icon → referrerInfo without extraData; the order is DOING', async (t) => {
  const m = merchant(t, { sheets: [CONFIRM, BACK] });
  const { got, cbs } = callbacks(m.rt);
  const no = orderNo('use-back');
  m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, ...cbs });
  await waitFor('App.onShow', () => m.log.onShow.length === 1);
  await settle();

  assert.deepStrictEqual(got.success, [OK], 'the back icon: success without query_id');
  assert.deepStrictEqual(m.rt.sheets, [USE_SHEET, LEAVE_SHEET]);
  assertLeft(m);
  assertReturned(m, { scene: 1038, path: PAGE, query: {}, referrerInfo: { appId: PAYSCORE } });
  assert.ok(!('extraData' in m.log.onShow[0].args[0].referrerInfo), 'no extraData key at all');
  const visit = await onlyVisit(no);
  assert.equal(visit.outcome, 'back_without_params');
  assert.equal((await queryOrder(sim, 'out_order_no', no)).state, 'DOING');
  assert.deepStrictEqual(m.rt.errors, []);
});

test('wxpayScoreUse: the back icon without confirming → no extraData; the order stays CREATED', async (t) => {
  const m = merchant(t, { sheets: [BACK] });
  const { got, cbs } = callbacks(m.rt);
  const no = orderNo('use-abandon');
  m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, ...cbs });
  await waitFor('App.onShow', () => m.log.onShow.length === 1);
  await settle();

  assert.deepStrictEqual(got.success, [OK]);
  assert.deepStrictEqual(m.rt.sheets, [USE_SHEET]);
  assertReturned(m, { scene: 1038, path: PAGE, query: {}, referrerInfo: { appId: PAYSCORE } });
  assert.equal((await onlyVisit(no)).outcome, 'back_without_params');
  assert.equal((await queryOrder(sim, 'out_order_no', no)).state, 'CREATED');
  assert.deepStrictEqual(m.rt.errors, []);
});

test('dismissing the action sheet is the back icon', async (t) => {
  const m = merchant(t, { sheets: ['cancel'] });
  const no = orderNo('use-dismiss');
  m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, success() {} });
  await waitFor('App.onShow', () => m.log.onShow.length === 1);
  assertReturned(m, { scene: 1038, path: PAGE, query: {}, referrerInfo: { appId: PAYSCORE } });
  assert.equal((await queryOrder(sim, 'out_order_no', no)).state, 'CREATED');
});

test("rejected extraData (unknown package) → fail with the simulator's diagnostic, then complete; nothing else", async (t) => {
  const m = merchant(t, { sheets: [] });
  const { got, cbs } = callbacks(m.rt);
  const visitsBefore = await visitCount();
  m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: 'AAQTnZoUnknownPackage' }, ...cbs });
  await waitFor('complete', () => got.complete.length === 1);
  await settle(100);

  assert.deepStrictEqual(got.success, []);
  assert.equal(got.fail.length, 1);
  const res = got.fail[0];
  assert.equal(got.complete[0], res, 'complete gets the fail object');
  assert.equal(res.errMsg, 'openBusinessView:fail 订单不存在');
  assert.equal(res.errCode, 4186, "WeChat's front-end code from detail.err_code");
  assert.equal(res.simulator.code, 'ORDER_NOT_EXIST');
  assert.equal(res.simulator.message, '订单不存在');
  assert.equal(res.simulator.detail.package, 'AAQTnZoUnknownPackage');
  assert.match(res.simulator.detail.issue, /no order has this package/);
  assert.deepStrictEqual(Object.keys(res).sort(), ['errCode', 'errMsg', 'simulator']);
  assert.deepStrictEqual(m.rt.events, ['App()', 'fail', 'complete'], 'no onHide, no sheet, no onShow');
  assert.equal(await visitCount(), visitsBefore, 'no visit opened');
  assert.equal(m.wx.getEnterOptionsSync(), LAUNCH);
});

test('wxpayScoreDetail (signed form): the return items only; the return plays what the simulator says', async (t) => {
  const m = merchant(t, { sheets: [RETURN] });
  const { got, cbs } = callbacks(m.rt);
  const no = orderNo('detail');
  await createOrder(sim, no);
  m.wx.openBusinessView({ businessType: 'wxpayScoreDetail', extraData: detailExtraData(sim, no), ...cbs });
  await waitFor('App.onShow', () => m.log.onShow.length === 1);
  await settle();

  assert.deepStrictEqual(got.success, [OK], 'a detail return hands back no query_id');
  assert.deepStrictEqual(m.rt.sheets, [LEAVE_SHEET]);
  assertLeft(m);
  const visit = await onlyVisit(no);
  assert.equal(visit.businessType, 'wxpayScoreDetail');
  assert.equal(visit.signed, true);
  assert.equal(visit.outcome, 'return_with_params');
  // The simulator issues query_ids for wxpayScoreUse only: a detail return carries none.
  assert.deepStrictEqual(visit.appShow, { scene: 1038, referrerInfo: { appId: PAYSCORE } });
  assertReturned(m, { scene: 1038, path: PAGE, query: {}, referrerInfo: { appId: PAYSCORE } });
  assert.equal((await queryOrder(sim, 'out_order_no', no)).state, 'CREATED');
});

test('wxpayScoreDetail with a sign made with the wrong key → fail 商户签名校验失败 with the sign string', async (t) => {
  const m = merchant(t);
  const { got, cbs } = callbacks(m.rt);
  const no = orderNo('detail-badsign');
  await createOrder(sim, no);
  const extraData = { ...detailExtraData(sim, no), sign: 'A'.repeat(64) };
  m.wx.openBusinessView({ businessType: 'wxpayScoreDetail', extraData, ...cbs });
  await waitFor('complete', () => got.complete.length === 1);
  assert.deepStrictEqual(got.success, []);
  assert.equal(got.fail[0].errMsg, 'openBusinessView:fail 商户签名校验失败');
  assert.equal(got.fail[0].errCode, -1, 'no documented front-end code for a bad sign');
  assert.equal(got.fail[0].simulator.code, 'SIGN_ERROR');
  assert.match(got.fail[0].simulator.detail.sign_string, /^mch_id=.*&key=<APIv2 key>$/);
});

test("navigateToMiniProgram to Pay Score's pages/use/use works like openBusinessView", async (t) => {
  const m = merchant(t, { sheets: [CONFIRM, RETURN] });
  const { got, cbs } = callbacks(m.rt);
  const no = orderNo('navigate');
  const pkg = await createOrder(sim, no);
  m.wx.navigateToMiniProgram({ appId: PAYSCORE, path: 'pages/use/use', extraData: { package: pkg }, ...cbs });
  await waitFor('App.onShow', () => m.log.onShow.length === 1);
  await settle();

  assert.deepStrictEqual(got.success, [{ errMsg: 'navigateToMiniProgram:ok' }]);
  assert.deepStrictEqual(got.fail, []);
  assert.equal(got.complete[0], got.success[0]);
  assert.deepStrictEqual(m.wx.nativeNavigateCalls, [], 'the real navigateToMiniProgram is not called');
  assertLeft(m);
  const visit = await onlyVisit(no);
  assert.equal(visit.form, 'navigateToMiniProgram');
  assertReturned(m, {
    scene: 1038, path: PAGE, query: {},
    referrerInfo: { appId: PAYSCORE, extraData: { query_id: visit.query_id } },
  });
  assert.equal((await queryOrder(sim, 'query_id', visit.query_id)).state, 'DOING');
});

test('navigateToMiniProgram to a wrong Pay Score path → fail with navigateToMiniProgram:fail', async (t) => {
  const m = merchant(t);
  const { got, cbs } = callbacks(m.rt);
  m.wx.navigateToMiniProgram({ appId: PAYSCORE, path: 'pages/nope', extraData: { package: 'x' }, ...cbs });
  await waitFor('complete', () => got.complete.length === 1);
  assert.equal(got.fail[0].errMsg, 'navigateToMiniProgram:fail path 错误');
  assert.equal(got.fail[0].errCode, 4185);
  assert.deepStrictEqual(got.success, []);
});

test('navigateToMiniProgram to another appId passes through untouched', async (t) => {
  const m = merchant(t);
  const requestsBefore = m.rt.requests.length;
  const visitsBefore = await visitCount();
  const args = { appId: 'wx1234567890abcdef', path: 'pages/index/index?x=1', extraData: { a: 1 }, envVersion: 'trial', success() {}, fail() {}, complete() {} };
  const ret = m.wx.navigateToMiniProgram(args);
  await settle(100);
  assert.equal(ret, undefined);
  assert.equal(m.wx.nativeNavigateCalls.length, 1);
  assert.equal(m.wx.nativeNavigateCalls[0], args, 'the original receives the identical object');
  assert.equal(m.rt.requests.length, requestsBefore, 'no wx.request');
  assert.equal(await visitCount(), visitsBefore, 'the simulator received nothing');
  assert.deepStrictEqual(m.rt.events, ['App()', 'native navigateToMiniProgram']);
});

test('legacy: openBusinessView is absent and canIUse says so, so the official "please upgrade" branch runs', async (t) => {
  const m = merchant(t, { legacy: true, nativeOpenBusinessView: true });
  assert.equal(m.wx.openBusinessView, undefined);
  assert.ok(!('openBusinessView' in m.wx));
  assert.equal(m.wx.canIUse('openBusinessView'), false);
  assert.equal(m.wx.canIUse('openBusinessView.object.businessType'), false);
  assert.equal(m.wx.canIUse('request'), true, 'other APIs answer as before');

  // The merchant's code, as in the official sample.
  if (m.wx.openBusinessView) {
    m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: 'x' } });
  } else {
    m.wx.showModal({ title: '提示', content: '当前微信版本过低，请升级到最新微信版本后重试。' });
  }
  assert.deepStrictEqual(m.rt.modals, [{ title: '提示', content: '当前微信版本过低，请升级到最新微信版本后重试。' }]);
  assert.deepStrictEqual(m.wx.nativeOpenCalls, []);

  shim.uninstall();
  assert.equal(m.wx.openBusinessView, m.originals.openBusinessView, 'uninstall brings it back');
  assert.equal(m.wx.canIUse('openBusinessView'), true);
});

test('not legacy: canIUse("openBusinessView") is true even where the runtime lacks it (developer tools)', async (t) => {
  const m = merchant(t);
  assert.equal(typeof m.wx.openBusinessView, 'function');
  assert.equal(m.wx.canIUse('openBusinessView'), true);
  shim.uninstall();
  assert.ok(!('openBusinessView' in m.wx), 'uninstall removes what it added');
  assert.equal(m.wx.canIUse('openBusinessView'), false);
});

test('webview mode: navigateTo the web-view page with the page_url; the shim polls, then navigateBack and onShow', async (t) => {
  const m = merchant(t, { mode: 'webview' });
  const { got, cbs } = callbacks(m.rt);
  const no = orderNo('webview');
  m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, ...cbs });
  await waitFor('navigateTo', () => m.rt.navigations.length === 1);

  const visit = (await visitsOf(sim, no))[0];
  const pageURL = sim.url + '/sim/visits/' + visit.visit_id;
  assert.deepStrictEqual(m.rt.navigations, [{ type: 'navigateTo', url: '/pages/payscore-sim/webview/index?url=' + encodeURIComponent(pageURL) }]);
  assert.deepStrictEqual(got.success, [], 'success waits for the user to come back');
  await waitFor('App.onHide', () => m.log.onHide.length === 1);
  assertLeft(m);
  assert.deepStrictEqual(m.rt.sheets, [], 'no action sheet in webview mode');

  // The user acts on the simulator's page; the test takes the same actions headlessly.
  assert.equal((await control(sim, 'POST', `/sim/v1/visits/${visit.visit_id}/confirm`)).status, 200);
  await settle(600);
  assert.equal(m.log.onShow.length, 0, 'confirming does not leave the page');
  const left = await control(sim, 'POST', `/sim/v1/visits/${visit.visit_id}/return`);
  assert.equal(left.status, 200);
  await waitFor('App.onShow', () => m.log.onShow.length === 1, 2000);
  await settle();

  assert.deepStrictEqual(m.rt.navigations.slice(1), [{ type: 'navigateBack', delta: 1 }]);
  assert.deepStrictEqual(m.rt.events.slice(-6), ['navigateBack', 'App.onShow', 'onAppShow#1', 'onAppShow#2', 'success', 'complete']);
  assertReturned(m, { path: PAGE, query: {}, ...left.data });
  assert.ok(left.data.referrerInfo.extraData.query_id);
  assert.deepStrictEqual(got.success, [{ ...OK, extraData: left.data.referrerInfo.extraData }]);
  assert.equal((await queryOrder(sim, 'query_id', left.data.referrerInfo.extraData.query_id)).state, 'DOING');

  // The web-view page unloads as navigateBack pops it: nothing more happens.
  m.wx.__payscoreSim.webviewUnloaded(pageURL);
  await settle(100);
  assert.equal(m.log.onShow.length, 1);
  assert.equal((await onlyVisit(no)).outcome, 'return_with_params');
});

test("webview mode: leaving the web-view page by its own back icon is the back icon without params", async (t) => {
  const m = merchant(t, { mode: 'webview' });
  const no = orderNo('webview-close');
  m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, success() {} });
  await waitFor('navigateTo', () => m.rt.navigations.length === 1);
  const pageURL = decodeURIComponent(m.rt.navigations[0].url.split('?url=')[1]);

  // What web/shim/webview/index.js does in onUnload.
  m.wx.__payscoreSim.webviewUnloaded(pageURL);
  await waitFor('App.onShow', () => m.log.onShow.length === 1);
  await settle(600);
  assert.deepStrictEqual(m.rt.navigations.slice(1), [], 'the page is gone already: no navigateBack');
  assertReturned(m, { scene: 1038, path: PAGE, query: {}, referrerInfo: { appId: PAYSCORE } });
  assert.equal((await onlyVisit(no)).outcome, 'back_without_params');
  assert.equal((await queryOrder(sim, 'out_order_no', no)).state, 'CREATED');
});

test('getEnterOptionsSync agrees with onShow after a return; getLaunchOptionsSync is untouched', async (t) => {
  const m = merchant(t, { sheets: [CONFIRM, RETURN] });
  assert.equal(m.wx.getEnterOptionsSync(), LAUNCH, 'before a return: the runtime answers');
  assert.equal(m.wx.getLaunchOptionsSync, m.originals.getLaunchOptionsSync);
  const no = orderNo('enter');
  m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, success() {} });
  await waitFor('App.onShow', () => m.log.onShow.length === 1);

  const shown = m.log.onShow[0].args[0];
  const enter = m.wx.getEnterOptionsSync();
  assert.equal(enter, shown);
  assert.deepStrictEqual(enter, {
    scene: 1038, path: PAGE, query: {},
    referrerInfo: { appId: PAYSCORE, extraData: { query_id: (await onlyVisit(no)).query_id } },
  });
  assert.equal(m.wx.getLaunchOptionsSync(), LAUNCH);
  assert.equal(m.wx.getLaunchOptionsSync, m.originals.getLaunchOptionsSync);
});

test('without callbacks, as WeChat does, the call returns a Promise', async (t) => {
  const m = merchant(t, { sheets: [BACK] });
  const no = orderNo('promise');
  const ok = await m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) } });
  assert.deepStrictEqual(ok, OK, 'the Promise resolves when the user is back');
  assert.equal(m.log.onShow.length, 1, 'after App.onShow');
  await assert.rejects(
    m.wx.navigateToMiniProgram({ appId: PAYSCORE, path: 'pages/use/use', extraData: { package: 'AAQTnZoNope' } }),
    (res) => res.errMsg === 'navigateToMiniProgram:fail 订单不存在' && res.simulator.code === 'ORDER_NOT_EXIST',
  );
});

test('an unreachable simulator → fail naming the address', async (t) => {
  const rt = createRuntime().install();
  t.after(() => { shim.uninstall(); rt.remove(); });
  shim.install({ simulator: 'http://127.0.0.1:1', wx: rt.wx });
  const { got, cbs } = callbacks(rt);
  rt.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: 'x' }, ...cbs });
  await waitFor('complete', () => got.complete.length === 1);
  assert.match(got.fail[0].errMsg, /^openBusinessView:fail cannot reach payscore-sim at http:\/\/127\.0\.0\.1:1 /);
  assert.deepStrictEqual(got.success, []);
});

test('App.onShow is found through getApp() when App() ran before install', async (t) => {
  const rt = createRuntime({ sheets: [BACK], route: PAGE }).install();
  const app = merchantApp(rt);
  App(app.options); // before the shim: nothing to wrap
  shim.install({ simulator: sim.url, wx: rt.wx });
  t.after(() => { shim.uninstall(); rt.remove(); });
  const no = orderNo('getapp');
  rt.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, success() {} });
  await waitFor('App.onShow', () => app.log.onShow.length === 1);
  assert.deepStrictEqual(app.log.onShow[0].args, [{ scene: 1038, path: PAGE, query: {}, referrerInfo: { appId: PAYSCORE } }]);
  assert.deepStrictEqual(app.log.onHide.map((c) => c.args), [[]]);
});

test('install({App: options}) calls that App where the runtime offers neither App nor getApp to wrap', async (t) => {
  const rt = createRuntime({ sheets: [BACK], route: PAGE }).install();
  delete globalThis.App;
  delete globalThis.getApp;
  t.after(() => { shim.uninstall(); rt.remove(); });
  const app = merchantApp(rt);
  shim.install({ simulator: sim.url, wx: rt.wx, App: app.options });
  const no = orderNo('app-option');
  rt.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, success() {} });
  await waitFor('App.onShow', () => app.log.onShow.length === 1);
  assert.deepStrictEqual(app.log.onShow[0].args, [{ scene: 1038, path: PAGE, query: {}, referrerInfo: { appId: PAYSCORE } }]);
  assert.equal(app.log.onShow[0].self, app.options);
  assert.deepStrictEqual(app.log.onHide.map((c) => c.args), [[]]);
});

test('uninstall restores wx, App and the listeners exactly', async (t) => {
  const rt = createRuntime({ nativeOpenBusinessView: true }).install();
  t.after(() => rt.remove());
  const before = { ...rt.wx };
  const globalApp = globalThis.App;
  shim.install({ simulator: sim.url, wx: rt.wx });
  assert.equal(shim.installed, true);
  for (const k of ['openBusinessView', 'navigateToMiniProgram', 'onAppShow', 'offAppShow', 'onAppHide', 'offAppHide', 'getEnterOptionsSync', 'canIUse']) {
    assert.notEqual(rt.wx[k], before[k], k + ' is replaced');
  }
  assert.notEqual(globalThis.App, globalApp);
  assert.equal(rt.wx.request, before.request);
  assert.equal(rt.wx.getLaunchOptionsSync, before.getLaunchOptionsSync);

  const l = () => {};
  rt.wx.onAppShow(l);
  assert.deepStrictEqual(rt.nativeShowListeners, [l], 'listeners still reach the runtime');
  rt.wx.offAppShow(l);
  assert.deepStrictEqual(rt.nativeShowListeners, []);

  shim.uninstall();
  assert.equal(shim.installed, false);
  assert.deepStrictEqual(Object.keys(rt.wx).sort(), Object.keys(before).sort());
  for (const k of Object.keys(before)) assert.equal(rt.wx[k], before[k], k + ' is restored');
  assert.equal(globalThis.App, globalApp);
});

test('wxpayScoreEnable: authorize, then return with params (live; skips while the simulator lacks the authorization mode)', async (t) => {
  const code = orderNo('auth');
  const perm = await apiv3(sim, 'POST', '/v3/payscore/permissions', {
    service_id: sim.creds.service_id, appid: sim.creds.appid,
    authorization_code: code, notify_url: 'https://merchant.example.com/payscore/notify',
  });
  if (perm.status !== 200 || !perm.data.apply_permissions_token) {
    t.skip(`POST /v3/payscore/permissions answers ${perm.status} ${perm.data && perm.data.code}`);
    return;
  }
  const m = merchant(t, { sheets: [AUTHORIZE, RETURN] });
  const { got, cbs } = callbacks(m.rt);
  m.wx.openBusinessView({ businessType: 'wxpayScoreEnable', extraData: { apply_permissions_token: perm.data.apply_permissions_token }, ...cbs });
  await waitFor('App.onShow or fail', () => m.log.onShow.length === 1 || got.fail.length === 1);
  if (got.fail.length) {
    t.skip('the simulator refuses wxpayScoreEnable visits: ' + got.fail[0].errMsg);
    return;
  }
  assert.deepStrictEqual(got.success, [OK], 'the enable page hands back nothing');
  assert.deepStrictEqual(m.rt.sheets, [[AUTHORIZE, ...LEAVE_SHEET], LEAVE_SHEET]);
  const opened = m.rt.requests.find((r) => r.method === 'POST' && r.url === sim.url + '/sim/v1/visits');
  const visit = (await control(sim, 'GET', '/sim/v1/visits/' + opened.response.data.visit_id)).data;
  assert.equal(visit.businessType, 'wxpayScoreEnable');
  assert.equal(visit.authorized, true);
  assert.equal(visit.outcome, 'return_with_params');
  assertLeft(m);
  assertReturned(m, { path: PAGE, query: {}, ...visit.appShow });
  assert.equal(visit.appShow.referrerInfo.appId, PAYSCORE);
  const q = new URLSearchParams({ mchid: sim.creds.mchid, authorization_code: code });
  const perms = (await control(sim, 'GET', '/sim/v1/permissions?' + q.toString())).data.data;
  assert.deepStrictEqual(perms.map((p) => p.authorization_state), ['AVAILABLE']);
});

// The shim's side of the visit API's contract, checked against a stub that speaks it: 201 on
// open and 200 on authorize with the actions the visit offers, appShow once ended.
test('wxpayScoreEnable: the shim offers the actions the visit lists, and calls the authorize action (contract stub)', async (t) => {
  const calls = [];
  let outcome = null;
  const stub = http.createServer((req, res) => {
    calls.push(req.method + ' ' + req.url);
    const json = (status, body) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); };
    const ret = { name: 'return', label: RETURN, leaves: true };
    const back = { name: 'back', label: BACK, leaves: true };
    if (req.method === 'POST' && req.url === '/sim/v1/visits') {
      return json(201, { visit_id: 'v1', businessType: 'wxpayScoreEnable', page_url: 'http://stub/sim/visits/v1', actions: [{ name: 'authorize', label: AUTHORIZE, leaves: false }, ret, back] });
    }
    if (req.method === 'POST' && req.url === '/sim/v1/visits/v1/authorize') return json(200, { visit_id: 'v1', actions: [ret, back] });
    if (req.method === 'POST' && req.url === '/sim/v1/visits/v1/return') { outcome = 'return_with_params'; return json(200, {}); }
    if (req.method === 'GET' && req.url === '/sim/v1/visits/v1') {
      return json(200, { visit_id: 'v1', outcome, appShow: outcome && { scene: 1038, referrerInfo: { appId: PAYSCORE } } });
    }
    return json(404, { code: 'NOT_FOUND', message: 'not in the stub' });
  });
  await new Promise((r) => stub.listen(0, '127.0.0.1', r));
  t.after(() => stub.close());
  const rt = createRuntime({ sheets: [AUTHORIZE, RETURN], route: PAGE }).install();
  t.after(() => { shim.uninstall(); rt.remove(); });
  shim.install({ simulator: `http://127.0.0.1:${stub.address().port}/`, wx: rt.wx });
  const app = merchantApp(rt);
  App(app.options);
  rt.wx.openBusinessView({ businessType: 'wxpayScoreEnable', extraData: { apply_permissions_token: 'AAQTnZo' }, success() {} });
  await waitFor('App.onShow', () => app.log.onShow.length === 1);
  assert.deepStrictEqual(rt.sheets, [[AUTHORIZE, RETURN, BACK], [RETURN, BACK]]);
  assert.deepStrictEqual(calls, ['POST /sim/v1/visits', 'POST /sim/v1/visits/v1/authorize', 'POST /sim/v1/visits/v1/return', 'GET /sim/v1/visits/v1']);
  assert.deepStrictEqual(app.log.onShow[0].args, [{ scene: 1038, path: PAGE, query: {}, referrerInfo: { appId: PAYSCORE } }]);
});

test('a rejected action shows the diagnostic and offers the sheet again', async (t) => {
  const no = orderNo('revoked');
  let cancel;
  // The merchant cancels the order while the user looks at the sheet: confirming then fails.
  const cancelThenConfirm = async () => {
    cancel = await apiv3(sim, 'POST', `/v3/payscore/serviceorder/${no}/cancel`, {
      appid: sim.creds.appid, service_id: sim.creds.service_id, reason: '用户取消',
    });
    return CONFIRM;
  };
  const m = merchant(t, { sheets: [cancelThenConfirm, BACK] });
  m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, success() {} });
  await waitFor('App.onShow', () => m.log.onShow.length === 1);
  assert.equal(cancel.status, 200, JSON.stringify(cancel.data));
  assert.equal(m.rt.modals.length, 1);
  assert.equal(m.rt.modals[0].title, 'payscore-sim: confirm');
  assert.match(m.rt.modals[0].content, /^INVALID_REQUEST|REVOKED|订单/);
  assert.deepStrictEqual(m.rt.sheets, [USE_SHEET, USE_SHEET]);
  assertReturned(m, { scene: 1038, path: PAGE, query: {}, referrerInfo: { appId: PAYSCORE } });
  assert.equal((await queryOrder(sim, 'out_order_no', no)).state, 'REVOKED');
});

test('the shim and the web-view page are ES2017 (mini-program runtimes)', (t) => {
  const files = ['../payscore-sim-miniprogram.js', '../webview/index.js'].map((f) => path.join(__dirname, f));
  const script = `
    const acorn = require('internal/deps/acorn/acorn/dist/acorn');
    for (const f of ${JSON.stringify(files)}) acorn.parse(require('fs').readFileSync(f, 'utf8'), { ecmaVersion: 2017, sourceType: 'script' });
    let strict = false; try { acorn.parse('a?.b', { ecmaVersion: 2017 }); } catch { strict = true; }
    if (!strict) throw new Error('acorn accepted ES2020 syntax at ecmaVersion 2017');`;
  try {
    execFileSync(process.execPath, ['--expose-internals', '-e', 'require("internal/deps/acorn/acorn/dist/acorn")'], { stdio: 'ignore' });
  } catch {
    t.skip("this node has no internal acorn to parse with");
    return;
  }
  execFileSync(process.execPath, ['--expose-internals', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
});
