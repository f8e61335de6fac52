'use strict';
// Real-world shapes of mini-program code that uses Pay Score, run with the shim against a live
// payscore-sim, in both modes: code that acts in openBusinessView's success, in App.onShow, or
// re-checks in its page's onShow (native Page(), Component()-based pages, and page objects shaped
// as uni-app and Taro make them), wrappers that read wx.openBusinessView at call time, a cold
// start, the phone's back button, a user who declines or is not eligible, and an invoking appid
// that is not the order's (4108). The code is written for these tests, modelled on how such
// projects are written.
// Run: node --test web/shim/test/   (PAYSCORE_SIM_BIN=<binary> skips the go build)

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const {
  PAYSCORE, CONFIRM, RETURN, BACK, DECLINE, NOT_ELIGIBLE, ANDROID_BACK, USE_SHEET, LEAVE_SHEET, OK, PAGE,
  orderNo, waitFor, settle, callbacks, merchant: bootMerchant,
} = require('./harness.js');
const { startSimulator, createOrder, queryOrder, detailExtraData, control, visitsOf } = require('./simulator.js');

let sim;
before(async () => { sim = await startSimulator(); });
after(() => { if (sim) sim.stop(); });

const MODES = ['actionSheet', 'webview'];
const LABELS = { confirm: CONFIRM, return: RETURN, back: BACK, decline: DECLINE, not_eligible: NOT_ELIGIBLE, android_back: ANDROID_BACK };
const CANCEL_FAIL = { errCode: -3, errMsg: 'openBusinessView:fail cancel' };

// merchant boots the fake mini-program in mode; user(steps) then plays the user's steps (action
// names): scripted action sheets, or in the web-view mode the page's buttons, taken through the
// control API once the web-view page is open.
function merchant(t, mode, steps, options = {}) {
  const m = bootMerchant(t, sim, { mode, pollInterval: 20, sheets: steps.map((s) => LABELS[s]), ...options });
  m.user = async () => {
    if (mode !== 'webview') return;
    await waitFor('the web-view page', () => m.rt.navigations.length >= 1);
    const id = openedVisit(m);
    for (const step of steps) {
      const res = await control(sim, 'POST', `/sim/v1/visits/${id}/${step}`);
      assert.equal(res.status, 200, `${step}: ${JSON.stringify(res.data)}`);
    }
  };
  return m;
}

// openedVisit is the id of the last visit the shim opened.
function openedVisit(m) {
  const opened = m.rt.requests.filter((r) => r.method === 'POST' && r.url === sim.url + '/sim/v1/visits' && r.response);
  return opened[opened.length - 1].response.data.visit_id;
}

// backEnd is the merchant's back end as its front end reaches it: the order's state now.
const backEnd = { state: async (no) => (await queryOrder(sim, 'out_order_no', no)).state };

for (const mode of MODES) {
  test(`${mode}: a vending cabinet opens its door in success, once the user confirmed and is back`, async (t) => {
    for (const [steps, door] of [[['confirm', 'return'], 'open'], [['back'], 'closed']]) {
      const m = merchant(t, mode, steps);
      const no = orderNo('cabinet');
      let opened;
      m.wx.openBusinessView({
        businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) },
        async success(res) {
          m.rt.events.push('success');
          // The cabinet's code: ask the back end, and open only a confirmed order's door.
          opened = { res, door: (await backEnd.state(no)) === 'DOING' ? 'open' : 'closed' };
        },
      });
      await m.user();
      await waitFor('the door', () => opened);
      assert.equal(opened.door, door, `after ${steps}`);
      assert.equal(opened.res.errCode, 0);
      assert.equal(m.rt.events.indexOf('success'), m.rt.events.indexOf('onAppShow#2') + 1, 'success comes after App.onShow');
      shimReset(m);
    }
  });

  test(`${mode}: App.onShow's query_id after a decline resolves to an order still CREATED`, async (t) => {
    const m = merchant(t, mode, ['decline']);
    const { got, cbs } = callbacks(m.rt);
    const no = orderNo('decline');
    m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, ...cbs });
    await m.user();
    await waitFor('success', () => got.success.length === 1);
    const queryID = m.app.options.globalData.query_id;
    assert.ok(queryID, 'App.onShow read a query_id');
    assert.deepStrictEqual(got.success, [{ ...OK, extraData: { query_id: queryID } }]);
    const order = await queryOrder(sim, 'query_id', queryID);
    assert.equal(order.state, 'CREATED', '带有返回参数不代表订单确认成功');
    assert.equal(order.openid, undefined, 'no user until one confirms');
    if (mode !== 'webview') assert.deepStrictEqual(m.rt.sheets, [USE_SHEET]);
  });

  test(`${mode}: a user who is not eligible returns from 暂不满足 with a query_id; the order stays CREATED`, async (t) => {
    const m = merchant(t, mode, ['not_eligible', 'return']);
    const { got, cbs } = callbacks(m.rt);
    const no = orderNo('ineligible');
    m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, ...cbs });
    await m.user();
    await waitFor('success', () => got.success.length === 1);
    const queryID = got.success[0].extraData.query_id;
    assert.equal((await queryOrder(sim, 'query_id', queryID)).state, 'CREATED');
    if (mode !== 'webview') assert.deepStrictEqual(m.rt.sheets, [USE_SHEET, LEAVE_SHEET]);
  });

  test(`${mode}: the phone's back button ends openBusinessView in fail; App.onShow has no extraData`, async (t) => {
    const m = merchant(t, mode, ['confirm', 'android_back']);
    const no = orderNo('android');
    const call = m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) } });
    await m.user();
    await assert.rejects(call, (res) => { assert.deepStrictEqual(res, CANCEL_FAIL); return true; });
    assert.deepStrictEqual(m.log.onShow[0].args[0], { scene: 1038, path: PAGE, query: {}, referrerInfo: { appId: PAYSCORE } });
    assert.equal(await backEnd.state(no), 'DOING', 'the user confirmed before pressing back');
  });
}

// shimReset ends one merchant of a loop, as t.after would at the end of the test.
function shimReset(m) {
  require('../payscore-sim-miniprogram.js').uninstall();
  m.rt.remove();
}

// The pages re-check on show. Each shape records its onShow and onHide into the runtime's
// events, as page.onShow and page.onHide, and re-checks the order there.
const pageShapes = {
  // A native page: Page() with onShow / onHide.
  native(rt, recheck) {
    Page({
      data: { state: '' },
      onShow() { rt.events.push('page.onShow'); recheck(this); },
      onHide() { rt.events.push('page.onHide'); },
    });
  },
  // A Component()-based page: the page's hooks in methods, pageLifetimes beside them.
  component(rt, recheck) {
    Component({
      data: { state: '' },
      methods: {
        onLoad() {},
        onShow() { rt.events.push('page.onShow'); recheck(this); },
      },
      pageLifetimes: { hide() { rt.events.push('page.onHide'); }, show() { rt.events.push('pageLifetimes.show'); } },
    });
  },
  // uni-app (Vue 2 and Vue 3 alike): Page() with hooks that call the Vue instance's onShow.
  uniapp(rt, recheck) {
    const vueHooks = { onShow: [function () { rt.events.push('page.onShow'); recheck(this.$scope); }], onHide: [() => rt.events.push('page.onHide')] };
    Page({
      data: {},
      onLoad() { this.$vm = { $scope: this, __call_hook(name) { (vueHooks[name] || []).forEach((h) => h.call(this)); } }; },
      onShow() { if (this.$vm) this.$vm.__call_hook('onShow'); },
      onHide() { if (this.$vm) this.$vm.__call_hook('onHide'); },
    });
  },
  // Taro (React or Vue 3): Page(createPageConfig(...)) whose onShow runs the useDidShow hooks
  // registered for the page's path.
  taro(rt, recheck) {
    const hooks = new Map([[PAGE, { onShow: [], onHide: [() => rt.events.push('page.onHide')] }]]);
    hooks.get(PAGE).onShow.push(() => { rt.events.push('page.onShow'); recheck(taroPage); });
    let taroPage;
    const safeExecute = (path, name) => (hooks.get(path)[name] || []).forEach((h) => h());
    Page({
      onLoad() { taroPage = this; this.$taroPath = PAGE; },
      onShow() { safeExecute(this.$taroPath, 'onShow'); },
      onHide() { safeExecute(this.$taroPath, 'onHide'); },
    });
  },
};

for (const mode of MODES) {
  for (const [shape, register] of Object.entries(pageShapes)) {
    test(`${mode}: a ${shape} page re-checks the order in its onShow, after App.onShow and before success`, async (t) => {
      const m = merchant(t, mode, ['confirm', 'return']);
      const no = orderNo('page-' + shape);
      const checked = [];
      let armed = false; // the first show, as the page loads, comes before the order exists
      register(m.rt, async (page) => { if (armed) checked.push({ page, state: await backEnd.state(no) }); });
      const page = m.rt.open(PAGE);
      const pkg = await createOrder(sim, no);
      armed = true;
      const start = m.rt.events.length;
      const { cbs } = callbacks(m.rt);
      m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: pkg }, ...cbs });
      await m.user();
      await waitFor('complete', () => m.rt.events.includes('complete'));
      await waitFor('the re-check', () => checked.length === 1);
      await settle();

      assert.equal(checked[0].page, page, 'onShow runs on the page instance');
      assert.equal(checked[0].state, 'DOING');
      const seen = m.rt.events.slice(start).filter((e) => !/^(sheet|tap):|^navigate/.test(e));
      const shown = shape === 'component' ? ['page.onShow', 'pageLifetimes.show'] : ['page.onShow'];
      assert.deepStrictEqual(seen, [
        'page.onHide', 'App.onHide', 'onAppHide',
        'App.onShow', 'onAppShow#1', 'onAppShow#2', ...shown, 'success', 'complete',
      ]);
    });
  }
}

test('Taro- and uni-app-style wrappers read wx.openBusinessView when called, so they reach the shim', async (t) => {
  // Made before the shim is installed, as a framework's runtime is; they look wx up per call.
  const promisify = (name) => (opts = {}) => new Promise((resolve, reject) => {
    globalThis.wx[name]({ ...opts, success: resolve, fail: reject });
  });
  const Taro = { openBusinessView: promisify('openBusinessView') };
  const uni = { navigateToMiniProgram: (opts) => promisify('navigateToMiniProgram')(opts).then((r) => [null, r], (e) => [e, undefined]) };

  const m = merchant(t, 'actionSheet', ['confirm', 'return', 'back']);
  const no = orderNo('taro');
  const res = await Taro.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) } });
  assert.deepStrictEqual(res, { ...OK, extraData: { query_id: m.app.options.globalData.query_id } });
  assert.equal((await queryOrder(sim, 'query_id', res.extraData.query_id)).state, 'DOING');

  // uni-app (Vue 2) resolves [err, res]; navigateToMiniProgram succeeds as Pay Score opens.
  const [err, opened] = await uni.navigateToMiniProgram({ appId: PAYSCORE, path: 'pages/record/detail', extraData: detailExtraData(sim, no) });
  assert.equal(err, null);
  assert.deepStrictEqual(opened, { errMsg: 'navigateToMiniProgram:ok' });
  assert.equal(m.log.onShow.length, 1, 'navigateToMiniProgram succeeds before the user is back');
  await waitFor('the second return', () => m.log.onShow.length === 2);
});

for (const mode of MODES) {
  test(`${mode}: cold start: App.onLaunch then App.onShow, both with scene 1038 and the referrerInfo`, async (t) => {
    const m = merchant(t, mode, ['confirm', 'return'], {
      coldStart: true,
      // The relaunched app registers its listener again in onLaunch, as app.js does.
      app: (options, rt) => {
        const launch = options.onLaunch;
        options.onLaunch = function (o) {
          launch.call(this, o);
          rt.wx.onAppShow(() => rt.events.push('onAppShow#relaunched'));
        };
      },
    });
    const { got, cbs } = callbacks(m.rt);
    const no = orderNo('cold');
    m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) }, ...cbs });
    await m.user();
    await waitFor('App.onShow', () => m.log.onShow.length === 1);
    await settle(100);

    const queryID = (await visitsOf(sim, no))[0].query_id;
    const want = { scene: 1038, path: PAGE, query: {}, referrerInfo: { appId: PAYSCORE, extraData: { query_id: queryID } } };
    assert.deepStrictEqual(m.log.onLaunch, [want]);
    assert.deepStrictEqual(m.log.onShow[0].args, [want]);
    assert.deepStrictEqual(m.rt.events.slice(-3), ['App.onLaunch', 'App.onShow', 'onAppShow#relaunched']);
    assert.deepStrictEqual(m.shown, [[], []], 'the listeners of the killed app are gone');
    assert.deepStrictEqual([got.success, got.fail, got.complete], [[], [], []], "the killed app's callbacks never run");
    assert.deepStrictEqual(m.wx.getLaunchOptionsSync(), want);
    assert.equal(m.wx.getEnterOptionsSync(), m.wx.getLaunchOptionsSync());
    assert.equal((await queryOrder(sim, 'query_id', queryID)).state, 'DOING');
  });
}

test('opening Pay Score again in success waits for the first visit; a second call meanwhile fails', async (t) => {
  const m = merchant(t, 'actionSheet', ['confirm', 'return', 'return']);
  const no = orderNo('twice');
  const { got, cbs } = callbacks(m.rt);
  m.wx.openBusinessView({
    businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) },
    success() { m.wx.openBusinessView({ businessType: 'wxpayScoreDetail', extraData: detailExtraData(sim, no), ...cbs }); },
  });
  const busy = await m.wx.openBusinessView({ businessType: 'wxpayScoreDetail', extraData: detailExtraData(sim, no) }).catch((e) => e);
  assert.deepStrictEqual(busy, { errMsg: 'openBusinessView:fail another navigation is in progress' });
  await waitFor('the detail page returned', () => got.success.length === 1);
  const visits = await visitsOf(sim, no);
  assert.deepStrictEqual(visits.map((v) => v.businessType), ['wxpayScoreDetail', 'wxpayScoreUse']);
  assert.deepStrictEqual(got.success, [OK]);
});

test('the openid and appid options: the order is the given user\'s; another appid is 4108', async (t) => {
  const user = 'oUpF8uSHIMuser0000000000000';
  const m = merchant(t, 'actionSheet', ['confirm', 'return'], {
    openid: user, appid: true,
    wx: (wx) => { wx.getAccountInfoSync = () => ({ miniProgram: { appId: sim.creds.appid, envVersion: 'develop' } }); },
  });
  const no = orderNo('user');
  const ok = await m.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no) } });
  const order = await queryOrder(sim, 'query_id', ok.extraData.query_id);
  assert.equal(order.openid, user);
  assert.equal((await visitsOf(sim, no))[0].invoker_appid, sim.creds.appid);

  shimReset(m);
  const other = merchant(t, 'actionSheet', [], { appid: 'wx1234567890abcdef' });
  const { got, cbs } = callbacks(other.rt);
  const no2 = orderNo('4108');
  other.wx.openBusinessView({ businessType: 'wxpayScoreUse', extraData: { package: await createOrder(sim, no2) }, ...cbs });
  await waitFor('fail', () => got.fail.length === 1);
  assert.equal(got.fail[0].errCode, 4108);
  assert.match(got.fail[0].errMsg, /^openBusinessView:fail /);
  assert.deepStrictEqual(await visitsOf(sim, no2) || [], [], 'no visit opened');
  assert.deepStrictEqual(other.rt.events, ['App()', 'fail', 'complete']);
});
