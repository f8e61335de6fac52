/*
 * payscore-sim mini-program shim: points wx.openBusinessView and
 * wx.navigateToMiniProgram (Pay Score's appId wxd8f3793ea3b935b8) at a local payscore-sim,
 * lets the developer act for the user, then plays the return as WeChat does
 * (App.onShow and wx.onAppShow with scene 1038 and referrerInfo).
 *
 * DEVELOPMENT BUILDS ONLY. Never ship this file in a release build: it replaces wx APIs and
 * sends your extraData to the simulator's address.
 *
 * Plain CommonJS, no dependencies, ES2017 at most, so it runs in every mini-program runtime.
 * See README.md beside this file.
 */
'use strict';

var PAYSCORE_APPID = 'wxd8f3793ea3b935b8';
var SCENE_FROM_MINIPROGRAM = 1038;
var BUSINESS_TYPES = ['wxpayScoreUse', 'wxpayScoreDetail', 'wxpayScoreEnable'];
var DEFAULT_WEBVIEW_PAGE = '/pages/payscore-sim/webview/index';
var DEFAULT_POLL_INTERVAL = 500;
// The hook the shipped web-view page calls when it unloads (see webview/index.js).
var WEBVIEW_HOOK = '__payscoreSim';

// The action sheet offers what the visit offers: the simulator lists the actions of the Pay Score
// page in the visit's JSON (actions: [{name, label, effect, leaves}]), so the shim decides none.
// A "leaving" action (return, back) ends the visit; dismissing the sheet is the back icon.
var BACK = 'back';

var state = null; // set while installed

function globalObject() {
  if (typeof globalThis !== 'undefined') return globalThis;
  if (typeof global !== 'undefined') return global;
  return undefined;
}

// runtimeGlobal finds one of the mini-program runtime's globals. They are read as free
// identifiers, which resolve even where the runtime does not expose them on globalThis.
function runtimeGlobal(name) {
  var g = globalObject();
  if (g && g[name] !== undefined) return g[name];
  switch (name) {
    case 'wx': return typeof wx !== 'undefined' ? wx : undefined;
    case 'App': return typeof App !== 'undefined' ? App : undefined;
    case 'getApp': return typeof getApp !== 'undefined' ? getApp : undefined;
    case 'getCurrentPages': return typeof getCurrentPages !== 'undefined' ? getCurrentPages : undefined;
  }
  return undefined;
}

// wrapApp replaces the global App with one that records the options App() is given. Where the
// global cannot be replaced, appInstance() falls back to getApp().
function wrapApp(s, origApp) {
  var wrapper = function (appOptions) {
    if (state === s) s.appOptions = appOptions;
    return origApp.apply(this, arguments);
  };
  var g = globalObject();
  if (g && g.App === origApp) {
    patch(g, 'App', wrapper);
    if (g.App === wrapper) return;
  }
  if (typeof App !== 'undefined' && App === origApp) {
    try {
      App = wrapper; // eslint-disable-line no-global-assign
      s.restore.push(function () {
        try { App = origApp; } catch (e) { /* leave it */ } // eslint-disable-line no-global-assign
      });
    } catch (e) {
      log('info', 'App cannot be wrapped here; App.onShow and App.onHide are found through getApp()');
    }
  }
}

// --- patching that can be undone exactly ---------------------------------------------------

function patch(obj, key, value) {
  var had = Object.prototype.hasOwnProperty.call(obj, key);
  var desc = had ? Object.getOwnPropertyDescriptor(obj, key) : undefined;
  state.restore.push(function () {
    if (had) {
      try {
        Object.defineProperty(obj, key, desc);
      } catch (e) {
        obj[key] = desc.value;
      }
    } else {
      try {
        delete obj[key];
      } catch (e) {
        obj[key] = undefined;
      }
    }
  });
  if (value === undefined) {
    try {
      if (delete obj[key] && !(key in obj)) return;
    } catch (e) { /* fall through */ }
  }
  try {
    Object.defineProperty(obj, key, { value: value, writable: true, configurable: true, enumerable: !had || desc.enumerable });
  } catch (e) {
    obj[key] = value;
  }
}

// --- small helpers --------------------------------------------------------------------------

function log(level, msg, extra) {
  if (typeof console === 'undefined' || !console[level]) return;
  if (extra === undefined) console[level]('[payscore-sim] ' + msg);
  else console[level]('[payscore-sim] ' + msg, extra);
}

function clone(v) {
  return v == null ? v : JSON.parse(JSON.stringify(v));
}

function later(fn) {
  setTimeout(fn, 0);
}

// call invokes a merchant's callback; an exception there is the merchant's, reported and not
// allowed to break the shim's flow (WeChat reports it to App.onError the same way).
function call(fn, thisArg, args, what) {
  if (typeof fn !== 'function') return;
  try {
    fn.apply(thisArg, args || []);
  } catch (e) {
    log('error', what + ' threw', e);
    var app = appInstance();
    if (app && typeof app.onError === 'function' && what.indexOf('onError') < 0) {
      call(app.onError, app, [String(e && e.stack || e)], 'App.onError');
    }
  }
}

// request wraps wx.request (mini-programs have no fetch): resolves {status, data} for any
// HTTP answer, rejects {errMsg} when the simulator cannot be reached.
function request(method, path, body) {
  var s = state;
  return new Promise(function (resolve, reject) {
    var opts = {
      url: s.simulator + path,
      method: method,
      header: { 'content-type': 'application/json', accept: 'application/json' },
      dataType: 'json',
      success: function (res) {
        var data = res.data;
        if (typeof data === 'string') {
          try { data = JSON.parse(data); } catch (e) { /* keep the text */ }
        }
        resolve({ status: res.statusCode, data: data });
      },
      fail: function (err) {
        reject({ errMsg: (err && err.errMsg) || 'request:fail' });
      }
    };
    if (body !== undefined) opts.data = body;
    s.origRequest.call(s.wx, opts);
  });
}

function simulatorError(res) {
  var d = res.data;
  if (d && typeof d === 'object' && d.message) return d;
  return { code: 'HTTP_' + res.status, message: 'HTTP ' + res.status, detail: { body: d } };
}

function describe(err) {
  var issue = err.detail && err.detail.issue ? '\n' + err.detail.issue : '';
  return err.code + ': ' + err.message + issue;
}

function appInstance() {
  var s = state;
  if (!s) return undefined;
  if (typeof s.getApp === 'function') {
    try {
      var app = s.getApp();
      if (app) return app;
    } catch (e) { /* no App yet */ }
  }
  return s.appOptions;
}

// appHook returns the App's lifecycle function: the options captured from App(), or the
// instance getApp() returns.
function appHook(name) {
  var s = state;
  var app = appInstance();
  if (app && typeof app[name] === 'function') return { fn: app[name], self: app };
  if (s.appOptions && typeof s.appOptions[name] === 'function') return { fn: s.appOptions[name], self: app || s.appOptions };
  return null;
}

function currentPath() {
  var s = state;
  if (typeof s.getCurrentPages === 'function') {
    try {
      var pages = s.getCurrentPages();
      var top = pages && pages[pages.length - 1];
      if (top && (top.route || top.__route__)) return top.route || top.__route__;
    } catch (e) { /* fall back */ }
  }
  var fns = [s.origGetEnterOptionsSync, s.wx.getLaunchOptionsSync];
  for (var i = 0; i < fns.length; i++) {
    if (typeof fns[i] !== 'function') continue;
    try {
      var o = fns[i].call(s.wx);
      if (o && o.path) return o.path;
    } catch (e) { /* try the next */ }
  }
  return '';
}

// --- the visit ------------------------------------------------------------------------------

// invoke runs one wx.openBusinessView / navigateToMiniProgram call for Pay Score.
// WeChat returns a Promise when none of success/fail/complete is given; so does the shim.
function invoke(api, args, body) {
  var promised = !args || (typeof args.success !== 'function' && typeof args.fail !== 'function' && typeof args.complete !== 'function');
  var resolve, reject;
  var promise = promised ? new Promise(function (ok, ko) { resolve = ok; reject = ko; }) : undefined;
  var s = state;
  var ctx = { api: api, path: currentPath(), ended: false, id: null };

  function fail(res) {
    if (promised) reject(res);
    else {
      call(args.fail, args, [res], api + ' fail');
      call(args.complete, args, [res], api + ' complete');
    }
  }
  request('POST', '/sim/v1/visits', body).then(function (res) {
    if (state !== s) return;
    if (res.status !== 201 || !res.data || !res.data.visit_id) {
      var err = simulatorError(res);
      var errCode = err.detail && typeof err.detail.err_code === 'number' ? err.detail.err_code : -1;
      log('warn', api + ' rejected by the simulator: ' + describe(err), err);
      fail({ errMsg: api + ':fail ' + err.message, errCode: errCode, simulator: err });
      return;
    }
    var visit = res.data;
    ctx.id = visit.visit_id;
    ctx.businessType = visit.businessType;
    ctx.pageURL = visit.page_url;
    ctx.actions = visitActions(visit);
    var ok = { errMsg: api + ':ok' };
    if (promised) resolve(ok);
    else {
      call(args.success, args, [ok], api + ' success');
      call(args.complete, args, [ok], api + ' complete');
    }
    // The user is now in the Pay Score mini-program: the merchant's app goes to the background.
    later(function () {
      if (state !== s) return;
      hide();
      if (s.mode === 'webview') openWebview(ctx);
      else sheet(ctx);
    });
  }, function (e) {
    if (state !== s) return;
    var msg = 'cannot reach payscore-sim at ' + s.simulator + ' (' + e.errMsg + ')';
    log('error', msg);
    fail({ errMsg: api + ':fail ' + msg, errCode: -1 });
  });
  return promise;
}

function hide() {
  var h = appHook('onHide');
  if (h) call(h.fn, h.self, [], 'App.onHide');
  state.hideListeners.slice().forEach(function (l) { call(l, undefined, [], 'onAppHide listener'); });
}

// finish reads the ended visit and plays what WeChat gives the merchant on return.
function finish(ctx, navigateBack) {
  var s = state;
  if (ctx.ended) return;
  ctx.ended = true;
  forget(ctx);
  request('GET', '/sim/v1/visits/' + encodeURIComponent(ctx.id)).then(function (res) {
    if (state !== s) return;
    if (res.status !== 200 || !res.data || !res.data.appShow) {
      log('error', 'visit ' + ctx.id + ' has no appShow: ' + JSON.stringify(res.data));
      return;
    }
    // Leave the web-view page first: WeChat runs App.onShow before the merchant page's onShow,
    // and navigateBack shows that page only once the route changes.
    if (navigateBack && ctx.onPage) {
      ctx.onPage = false;
      s.wx.navigateBack({ delta: 1 });
    }
    show(ctx, res.data.appShow);
  }, function (e) {
    log('error', 'cannot read visit ' + ctx.id + ': ' + e.errMsg);
  });
}

// show calls App.onShow and every wx.onAppShow listener with one object, which
// wx.getEnterOptionsSync returns from then on.
function show(ctx, appShow) {
  var s = state;
  var res = Object.assign({ path: ctx.path, query: {} }, clone(appShow));
  s.enterOptions = res;
  var h = appHook('onShow');
  if (h) call(h.fn, h.self, [res], 'App.onShow');
  s.showListeners.slice().forEach(function (l) { call(l, undefined, [res], 'onAppShow listener'); });
}

// act takes an action for the user. It resolves to {err} when the simulator refuses it, else to
// {visit}: the visit as the action left it (the control API answers confirm and authorize with
// the visit; return and back with the App.onShow object, which has no actions).
function act(ctx, action) {
  return request('POST', '/sim/v1/visits/' + encodeURIComponent(ctx.id) + '/' + action).then(function (res) {
    if (res.status === 200) return { visit: res.data };
    return { err: simulatorError(res) };
  }, function (e) {
    return { err: { code: 'UNREACHABLE', message: 'cannot reach payscore-sim (' + e.errMsg + ')' } };
  });
}

// visitActions reads the actions a visit offers from its JSON. A simulator too old to list them
// leaves the user only the back icon, which every open visit has.
function visitActions(visit) {
  if (visit && Array.isArray(visit.actions)) return visit.actions;
  log('error', 'the simulator lists no actions for the visit (it predates them): only the back icon is offered');
  return [{ name: BACK, label: '左上角返回 back icon without params', leaves: true }];
}

// sheet offers the actions the visit offers now. Dismissing a sheet is the top-left back icon.
function sheet(ctx) {
  var s = state;
  var items = ctx.actions;
  function choose(item) {
    act(ctx, item.name).then(function (r) {
      if (state !== s || ctx.ended) return;
      if (r.err) {
        log('warn', item.name + ' rejected: ' + describe(r.err), r.err);
        s.wx.showModal({
          title: 'payscore-sim: ' + item.name,
          content: describe(r.err),
          showCancel: false,
          complete: function () { if (state === s) sheet(ctx); }
        });
        return;
      }
      if (item.leaves) {
        finish(ctx, false);
        return;
      }
      ctx.actions = visitActions(r.visit);
      sheet(ctx);
    });
  }
  var back = items.filter(function (it) { return it.name === BACK; })[0] || { name: BACK, leaves: true };
  s.wx.showActionSheet({
    alertText: '微信支付分 payscore-sim · ' + ctx.businessType,
    itemList: items.map(function (it) { return it.label; }),
    success: function (res) { choose(items[res.tapIndex] || back); },
    fail: function () { choose(back); }
  });
}

// openWebview shows the simulator's page in the shipped web-view page and polls the visit.
function openWebview(ctx) {
  var s = state;
  s.open[ctx.id] = ctx;
  s.pages[ctx.pageURL] = ctx;
  ctx.onPage = true;
  s.wx.navigateTo({
    url: s.webviewPage + '?url=' + encodeURIComponent(ctx.pageURL),
    fail: function (e) {
      log('error', 'navigateTo ' + s.webviewPage + ' failed (' + (e && e.errMsg) + '); did you copy web/shim/webview/ there and list it in app.json?');
    }
  });
  poll(ctx);
}

function poll(ctx) {
  var s = state;
  ctx.timer = setTimeout(function () {
    ctx.timer = null;
    if (state !== s || ctx.ended) return;
    request('GET', '/sim/v1/visits/' + encodeURIComponent(ctx.id)).then(function (res) {
      if (state !== s || ctx.ended) return;
      if (res.status === 200 && res.data && res.data.outcome) {
        finish(ctx, true);
      } else if (res.status >= 400 && res.status < 500) {
        log('error', 'stopped polling visit ' + ctx.id + ': ' + describe(simulatorError(res)));
        forget(ctx);
      } else {
        poll(ctx);
      }
    }, function () {
      if (state === s && !ctx.ended) poll(ctx);
    });
  }, s.pollInterval);
}

function forget(ctx) {
  if (ctx.timer) clearTimeout(ctx.timer);
  ctx.timer = null;
  if (state && state.open[ctx.id] === ctx) delete state.open[ctx.id];
}

// webviewUnloaded is called by the web-view page's onUnload with its url. If the visit is still
// open, the user left with the web-view page's own top-left back icon: that is "back icon
// without params".
function webviewUnloaded(url) {
  var s = state;
  if (!s) return;
  var ctx = s.pages[url];
  if (!ctx) {
    var urls = Object.keys(s.pages);
    if (urls.length !== 1) return;
    ctx = s.pages[urls[0]];
  }
  delete s.pages[ctx.pageURL];
  ctx.onPage = false;
  if (ctx.ended) return;
  forget(ctx);
  act(ctx, BACK).then(function (r) {
    if (r.err) log('warn', 'back after the web-view page closed: ' + describe(r.err));
    if (state === s) finish(ctx, false);
  });
}

// --- the wx replacements -------------------------------------------------------------------

function openBusinessView(args) {
  args = args || {};
  var bt = args.businessType;
  var body = { businessType: bt, extraData: args.extraData === undefined ? null : args.extraData };
  if (BUSINESS_TYPES.indexOf(bt) < 0) {
    log('warn', 'businessType ' + JSON.stringify(bt) + ' is not one Pay Score knows (' + BUSINESS_TYPES.join(', ') + '); asking the simulator anyway');
  }
  return invoke('openBusinessView', args, body);
}

function navigateToMiniProgram(args) {
  var s = state;
  if (!args || args.appId !== PAYSCORE_APPID) {
    if (typeof s.origNavigate !== 'function') throw new TypeError('wx.navigateToMiniProgram is not a function');
    return s.origNavigate.apply(s.wx, arguments);
  }
  var body = { appId: args.appId, path: args.path || '', extraData: args.extraData === undefined ? null : args.extraData };
  return invoke('navigateToMiniProgram', args, body);
}

// --- install / uninstall --------------------------------------------------------------------

function install(options) {
  options = options || {};
  if (state) uninstall();
  var wx = options.wx || runtimeGlobal('wx');
  if (!wx || typeof wx.request !== 'function') throw new TypeError('payscore-sim: install needs the wx object ({wx})');
  if (typeof options.simulator !== 'string' || !/^https?:\/\/[^/]+/.test(options.simulator)) {
    throw new TypeError('payscore-sim: install needs the simulator address, e.g. {simulator: "http://192.168.1.10:8080"}');
  }
  var mode = options.mode || 'actionSheet';
  if (mode !== 'actionSheet' && mode !== 'webview') throw new TypeError('payscore-sim: mode must be "actionSheet" or "webview", not ' + JSON.stringify(mode));

  state = {
    wx: wx,
    simulator: options.simulator.replace(/\/+$/, ''),
    mode: mode,
    webviewPage: options.webviewPage || DEFAULT_WEBVIEW_PAGE,
    pollInterval: options.pollInterval > 0 ? options.pollInterval : DEFAULT_POLL_INTERVAL,
    legacy: !!options.legacy,
    getApp: options.getApp || runtimeGlobal('getApp'),
    getCurrentPages: options.getCurrentPages || runtimeGlobal('getCurrentPages'),
    origRequest: wx.request,
    origNavigate: wx.navigateToMiniProgram,
    origOnAppShow: wx.onAppShow,
    origOffAppShow: wx.offAppShow,
    origOnAppHide: wx.onAppHide,
    origOffAppHide: wx.offAppHide,
    origGetEnterOptionsSync: wx.getEnterOptionsSync,
    origCanIUse: wx.canIUse,
    appOptions: undefined,
    enterOptions: undefined,
    showListeners: [],
    hideListeners: [],
    open: {},
    pages: {},
    restore: []
  };
  var s = state;

  if (s.legacy) patch(wx, 'openBusinessView', undefined);
  else patch(wx, 'openBusinessView', openBusinessView);
  patch(wx, 'navigateToMiniProgram', navigateToMiniProgram);

  patch(wx, 'canIUse', function (schema) {
    if (typeof schema === 'string' && /^openBusinessView(\.|$)/.test(schema)) return !s.legacy;
    return typeof s.origCanIUse === 'function' ? s.origCanIUse.apply(wx, arguments) : false;
  });

  function track(list, on, off, onName, offName) {
    patch(wx, onName, function (listener) {
      if (typeof listener === 'function' && list.indexOf(listener) < 0) list.push(listener);
      if (typeof on === 'function') return on.apply(wx, arguments);
    });
    patch(wx, offName, function (listener) {
      if (listener === undefined) list.length = 0;
      else if (list.indexOf(listener) >= 0) list.splice(list.indexOf(listener), 1);
      if (typeof off === 'function') return off.apply(wx, arguments);
    });
  }
  track(s.showListeners, s.origOnAppShow, s.origOffAppShow, 'onAppShow', 'offAppShow');
  track(s.hideListeners, s.origOnAppHide, s.origOffAppHide, 'onAppHide', 'offAppHide');

  patch(wx, 'getEnterOptionsSync', function () {
    if (s.enterOptions) return s.enterOptions;
    return typeof s.origGetEnterOptionsSync === 'function' ? s.origGetEnterOptionsSync.apply(wx, arguments) : undefined;
  });

  // Capture App()'s options by wrapping the global App; getApp() is the fallback when App()
  // ran before install or the runtime does not let the global be replaced.
  // options.App may name the runtime's App function, or be the App's options object itself.
  if (options.App && typeof options.App === 'object') s.appOptions = options.App;
  var origApp = typeof options.App === 'function' ? options.App : runtimeGlobal('App');
  if (typeof origApp === 'function') wrapApp(s, origApp);

  patch(wx, WEBVIEW_HOOK, { webviewUnloaded: webviewUnloaded });
  try {
    Object.defineProperty(wx, WEBVIEW_HOOK, { enumerable: false });
  } catch (e) { /* cosmetic */ }

  log('info', 'installed: wx.openBusinessView' + (s.legacy ? ' removed (legacy: WeChat < 7.0.3)' : '') +
    ' and navigateToMiniProgram(' + PAYSCORE_APPID + ') go to ' + s.simulator + ' (' + s.mode + '). Development builds only.');
  return module.exports;
}

function uninstall() {
  var s = state;
  if (!s) return module.exports;
  Object.keys(s.open).forEach(function (id) { forget(s.open[id]); });
  state = null;
  for (var i = s.restore.length - 1; i >= 0; i--) s.restore[i]();
  return module.exports;
}

module.exports = {
  install: install,
  uninstall: uninstall,
  PAYSCORE_APPID: PAYSCORE_APPID,
  get installed() { return state !== null; }
};
