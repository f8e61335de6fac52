'use strict';
// A fake mini-program runtime for the shim's tests: a `wx` object whose request goes over
// fetch, whose action sheets pick from a scripted queue and whose navigation is recorded, and
// the globals App / getApp / getCurrentPages, which record what the runtime does. A scripted
// action sheet choice is a label substring, 'cancel' (the user dismisses the sheet), or a
// function that returns (or resolves to) one of those. Everything
// that happens is appended to `events`, in order, so tests can assert sequences.
//
// Pages: Page(options) and Component(options) register the page of the next open(route), which
// builds its instance as the runtime does (Page: the options' members on the instance;
// Component: the methods on the instance, lifetimes.created/attached, pageLifetimes) and shows
// it. navigateTo hides the page on top and navigateBack shows the one below, asynchronously,
// as the runtime does.

const LAUNCH = Object.freeze({ scene: 1001, path: 'pages/index/index', query: {}, referrerInfo: {} });

function createRuntime(opts = {}) {
  const events = [];
  const requests = [];
  const sheets = [];
  const modals = [];
  const navigations = [];
  const errors = [];
  const sheetQueue = [...(opts.sheets || [])];
  const nativeShow = [];
  const nativeHide = [];
  const pages = [{ route: opts.route || 'pages/order/order', options: {} }];
  let appInstance;
  let registered; // the options of the last Page() or Component() call, and which

  // lifecycle runs a page's hook as the runtime does: a Page()'s member, a Component()'s
  // method, then a Component()'s pageLifetimes.
  function lifecycle(page, name, args = []) {
    if (typeof page[name] === 'function') page[name](...args);
    const short = { onShow: 'show', onHide: 'hide' }[name];
    const lt = page.__component && page.__component.pageLifetimes;
    if (short && lt && typeof lt[short] === 'function') lt[short].call(page);
  }

  // open builds the registered page at route, loads and shows it.
  function open(route, query = {}) {
    if (!registered) throw new Error('no Page() or Component() registered for ' + route);
    const { kind, options } = registered;
    registered = undefined;
    const page = { route, options: query, data: JSON.parse(JSON.stringify(options.data || {})) };
    if (kind === 'Page') {
      for (const [k, v] of Object.entries(options)) if (k !== 'data') page[k] = v;
    } else {
      Object.assign(page, options.methods || {});
      page.__component = options;
      const lt = options.lifetimes || {};
      for (const hook of ['created', 'attached']) {
        const fn = lt[hook] || options[hook];
        if (typeof fn === 'function') fn.call(page);
      }
    }
    page.setData = (d) => Object.assign(page.data, d);
    pages.push(page);
    lifecycle(page, 'onLoad', [query]);
    lifecycle(page, 'onShow');
    return page;
  }

  const wx = {
    request(o) {
      const controller = new AbortController();
      let url = o.url;
      const method = (o.method || 'GET').toUpperCase();
      const init = { method, headers: { ...(o.header || {}) }, signal: controller.signal };
      if (o.data !== undefined) {
        if (method === 'GET') {
          url += (url.includes('?') ? '&' : '?') + new URLSearchParams(o.data).toString();
        } else {
          init.body = typeof o.data === 'string' ? o.data : JSON.stringify(o.data);
        }
      }
      const record = { method, url, data: o.data };
      requests.push(record);
      fetch(url, init).then(async (resp) => {
        const text = await resp.text();
        let data = text;
        if ((o.dataType || 'json') === 'json') {
          try { data = JSON.parse(text); } catch { /* WeChat leaves it a string */ }
        }
        const res = { data, statusCode: resp.status, header: Object.fromEntries(resp.headers), cookies: [], errMsg: 'request:ok' };
        record.response = { status: resp.status, data };
        o.success && o.success(res);
        o.complete && o.complete(res);
      }, (e) => {
        const res = { errMsg: 'request:fail ' + e.message };
        o.fail && o.fail(res);
        o.complete && o.complete(res);
      });
      return { abort: () => controller.abort() };
    },

    showActionSheet(o) {
      sheets.push(o.itemList.slice());
      events.push('sheet:' + o.itemList.join(' | '));
      setImmediate(async () => {
        let pick = sheetQueue.shift();
        // A scripted choice may be a function: the user looks at the sheet until it resolves.
        if (typeof pick === 'function') pick = await pick(o.itemList.slice());
        let res;
        if (pick === 'cancel') {
          res = { errMsg: 'showActionSheet:fail cancel' };
        } else {
          const tapIndex = o.itemList.findIndex((label) => label.includes(pick));
          if (pick === undefined || tapIndex < 0) {
            errors.push(`action sheet [${o.itemList.join(', ')}] has no scripted choice ${JSON.stringify(pick)}`);
            res = { errMsg: 'showActionSheet:fail cancel' };
          } else {
            events.push('tap:' + o.itemList[tapIndex]);
            res = { tapIndex, errMsg: 'showActionSheet:ok' };
            o.success && o.success(res);
            o.complete && o.complete(res);
            return;
          }
        }
        o.fail && o.fail(res);
        o.complete && o.complete(res);
      });
    },

    showModal(o) {
      modals.push({ title: o.title, content: o.content });
      events.push('modal:' + o.title);
      setImmediate(() => {
        const res = { confirm: true, cancel: false, errMsg: 'showModal:ok' };
        o.success && o.success(res);
        o.complete && o.complete(res);
      });
    },

    navigateTo(o) {
      navigations.push({ type: 'navigateTo', url: o.url });
      events.push('navigateTo');
      setImmediate(() => {
        lifecycle(pages[pages.length - 1], 'onHide');
        pages.push({ route: o.url.replace(/^\//, '').split('?')[0], options: {} });
        o.success && o.success({ errMsg: 'navigateTo:ok' });
        o.complete && o.complete({ errMsg: 'navigateTo:ok' });
      });
    },

    navigateBack(o = {}) {
      navigations.push({ type: 'navigateBack', delta: o.delta });
      events.push('navigateBack');
      setImmediate(() => {
        pages.splice(pages.length - (o.delta || 1), o.delta || 1);
        lifecycle(pages[pages.length - 1], 'onShow');
        o.success && o.success({ errMsg: 'navigateBack:ok' });
        o.complete && o.complete({ errMsg: 'navigateBack:ok' });
      });
    },

    navigateToMiniProgram(o) {
      events.push('native navigateToMiniProgram');
      wx.nativeNavigateCalls.push(o);
    },
    nativeNavigateCalls: [],

    onAppShow(fn) { nativeShow.push(fn); },
    offAppShow(fn) { const i = nativeShow.indexOf(fn); if (i >= 0) nativeShow.splice(i, 1); },
    onAppHide(fn) { nativeHide.push(fn); },
    offAppHide(fn) { const i = nativeHide.indexOf(fn); if (i >= 0) nativeHide.splice(i, 1); },

    getLaunchOptionsSync() { return LAUNCH; },
    getEnterOptionsSync() { return LAUNCH; },

    // Like WeChat: answers from the base library's table of APIs, not from what is on wx now.
    canIUse(schema) { return apis.has(String(schema).split('.')[0]); },
  };
  const apis = new Set(Object.keys(wx).filter((k) => typeof wx[k] === 'function'));
  if (!opts.nativeOpenBusinessView) apis.delete('openBusinessView');

  if (opts.nativeOpenBusinessView) {
    // A phone's WeChat ≥ 7.0.3 has it (the developer tools do not).
    wx.openBusinessView = function openBusinessView(o) { events.push('native openBusinessView'); wx.nativeOpenCalls.push(o); };
    wx.nativeOpenCalls = [];
    apis.add('openBusinessView');
  }

  // App() registers the app as WeChat does; getApp() returns its instance.
  const App = function App(options) {
    events.push('App()');
    appInstance = options;
  };
  const Page = function Page(options) { registered = { kind: 'Page', options }; };
  const Component = function Component(options) { registered = { kind: 'Component', options }; };

  return {
    wx,
    App,
    Page,
    Component,
    open,
    getApp: () => appInstance,
    getCurrentPages: () => pages.slice(),
    events,
    requests,
    sheets,
    modals,
    navigations,
    errors,
    pages,
    nativeShowListeners: nativeShow,
    LAUNCH,
    // install puts App, getApp, getCurrentPages and wx on the global object, as a mini-program
    // runtime has them; remove takes them away again.
    install() {
      Object.assign(globalThis, { wx, App, Page, Component, getApp: this.getApp, getCurrentPages: this.getCurrentPages });
      return this;
    },
    remove() {
      for (const k of ['wx', 'App', 'Page', 'Component', 'getApp', 'getCurrentPages']) delete globalThis[k];
    },
  };
}

// merchantApp is a merchant's app.js App({...}) options that record every lifecycle call,
// with its arguments, into rt.events and the returned log.
function merchantApp(rt) {
  const log = { onShow: [], onHide: [], onLaunch: [] };
  const options = {
    globalData: {},
    onLaunch(o) { log.onLaunch.push(o); rt.events.push('App.onLaunch'); },
    onShow(o) {
      log.onShow.push({ args: [...arguments], self: this });
      rt.events.push('App.onShow');
      // The official sample: scene 1038 from the Pay Score appId carries query_id.
      if (o && o.scene === 1038 && o.referrerInfo && o.referrerInfo.appId === 'wxd8f3793ea3b935b8') {
        this.globalData.query_id = o.referrerInfo.extraData ? o.referrerInfo.extraData.query_id : undefined;
      }
    },
    onHide() { log.onHide.push({ args: [...arguments] }); rt.events.push('App.onHide'); },
  };
  return { options, log };
}

module.exports = { createRuntime, merchantApp, LAUNCH };
