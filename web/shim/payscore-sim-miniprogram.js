/*
 * payscore-sim mini-program shim: points wx.openBusinessView and
 * wx.navigateToMiniProgram (Pay Score's appId wxd8f3793ea3b935b8) at a local payscore-sim,
 * lets the developer act for the user, then plays the return as WeChat does: the page's and
 * the app's onHide on leaving; App.onShow and wx.onAppShow with scene 1038 and referrerInfo,
 * the page's onShow, then openBusinessView's success or fail on coming back (or, as a cold
 * start, App.onLaunch and App.onShow).
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

var ANDROID_BACK = 'android_back';
// What wx.openBusinessView's fail receives after the phone's back button: the failure WeChat
// users report for a cancelled openBusinessView (reference 9.3; the Android back button's own
// payload is not published, so this shape is inferred).
var CANCEL_FAIL = { errCode: -3, errMsg: 'openBusinessView:fail cancel' };

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

// wrapComponent replaces the global Component with one that remembers each instance's
// pageLifetimes, so that a Component()-based page's pageLifetimes.show and hide run too (its
// methods, onShow included, are on the instance already).
function wrapComponent(s, origComponent) {
  var g = globalObject();
  if (!g || g.Component !== origComponent) return;
  patch(g, 'Component', function (options) {
    var lifetimes = options && options.pageLifetimes;
    if (lifetimes && state === s) {
      options.lifetimes = options.lifetimes || {};
      var attached = options.lifetimes.attached || options.attached;
      options.lifetimes.attached = function () {
        if (state === s) s.pageLifetimes.set(this, lifetimes);
        if (typeof attached === 'function') return attached.apply(this, arguments);
      };
    }
    return origComponent.apply(this, arguments);
  });
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

// currentPage is the page on top of the stack, if the runtime says.
function currentPage() {
  var s = state;
  if (typeof s.getCurrentPages !== 'function') return undefined;
  try {
    var pages = s.getCurrentPages();
    return pages && pages[pages.length - 1];
  } catch (e) {
    return undefined;
  }
}

// pageHook runs the page's onShow or onHide, as the runtime would: the page object's method
// (Page(), and the methods of a Component()-based page, uni-app's and Taro's page objects
// included), then a Component()-based page's pageLifetimes.show or hide.
function pageHook(page, name) {
  if (!page) return;
  var what = 'page ' + (page.route || page.__route__ || '') + ' ';
  call(page[name], page, [], what + name);
  var lifetimes = state.pageLifetimes.get(page);
  var short = name === 'onShow' ? 'show' : 'hide';
  if (lifetimes) call(lifetimes[short], page, [], what + 'pageLifetimes.' + short);
}

function currentPath() {
  var s = state;
  var top = currentPage();
  if (top && (top.route || top.__route__)) return top.route || top.__route__;
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
  var ctx = { api: api, path: currentPath(), ended: false, id: null, page: currentPage() };

  // reply ends the call once: success (then complete) or fail (then complete), as WeChat does.
  ctx.reply = function (ok, res) {
    ctx.reply = function () {};
    if (promised) (ok ? resolve : reject)(res);
    else {
      call(ok ? args.success : args.fail, args, [res], api + (ok ? ' success' : ' fail'));
      call(args.complete, args, [res], api + ' complete');
    }
  };
  if (s.active) {
    later(function () { ctx.reply(false, { errMsg: api + ':fail another navigation is in progress' }); });
    return promise;
  }
  s.active = ctx;
  function rejected(res) {
    if (s.active === ctx) s.active = null;
    ctx.reply(false, res);
  }
  request('POST', '/sim/v1/visits', Object.assign(body, s.user)).then(function (res) {
    if (state !== s) return;
    if (res.status !== 201 || !res.data || !res.data.visit_id) {
      var err = simulatorError(res);
      var errCode = err.detail && typeof err.detail.err_code === 'number' ? err.detail.err_code : -1;
      log('warn', api + ' rejected by the simulator: ' + describe(err), err);
      rejected({ errMsg: api + ':fail ' + err.message, errCode: errCode, simulator: err });
      return;
    }
    var visit = res.data;
    ctx.id = visit.visit_id;
    ctx.businessType = visit.businessType;
    ctx.pageURL = visit.page_url;
    ctx.actions = visitActions(visit);
    // navigateToMiniProgram succeeds when the target opens ("打开成功"); openBusinessView
    // answers when the user is back (reference 9.3).
    if (api === 'navigateToMiniProgram') ctx.reply(true, { errMsg: api + ':ok' });
    // The user is now in the Pay Score mini-program: the merchant's page and app go to the
    // background (in the web-view mode the runtime hides the page as it navigates).
    later(function () {
      if (state !== s) return;
      if (s.mode === 'webview') openWebview(ctx);
      else {
        hide(ctx);
        sheet(ctx);
      }
    });
  }, function (e) {
    if (state !== s) return;
    var msg = 'cannot reach payscore-sim at ' + s.simulator + ' (' + e.errMsg + ')';
    log('error', msg);
    rejected({ errMsg: api + ':fail ' + msg, errCode: -1 });
  });
  return promise;
}

// hide plays the merchant going to the background: the page's onHide (in the action-sheet
// mode), then App.onHide and the wx.onAppHide listeners, WeChat's order.
function hide(ctx) {
  if (state.mode !== 'webview') pageHook(ctx.page, 'onHide');
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
    if (s.active === ctx) s.active = null;
    if (res.status !== 200 || !res.data || !res.data.appShow) {
      log('error', 'visit ' + ctx.id + ' has no appShow: ' + JSON.stringify(res.data));
      return;
    }
    var visit = res.data;
    // The web-view page goes first: the runtime shows the merchant's page once the route has
    // changed, after App.onShow; openBusinessView answers once the page is back.
    var back = navigateBack && ctx.onPage;
    if (back) {
      ctx.onPage = false;
      s.wx.navigateBack({ delta: 1, complete: function () { if (state === s && !s.coldStart) answer(ctx, visit); } });
    }
    if (s.coldStart) {
      relaunch(ctx, visit.appShow);
      return;
    }
    show(ctx, visit.appShow);
    if (back) return;
    if (s.mode !== 'webview') pageHook(ctx.page, 'onShow');
    answer(ctx, visit);
  }, function (e) {
    if (s.active === ctx) s.active = null;
    log('error', 'cannot read visit ' + ctx.id + ': ' + e.errMsg);
  });
}

// answer calls openBusinessView's success or fail once the user is back: errCode 0, with
// extraData only after the in-page return; fail after the phone's back button.
function answer(ctx, visit) {
  if (ctx.api !== 'openBusinessView') return;
  if (visit.outcome === 'android_back') {
    ctx.reply(false, clone(CANCEL_FAIL));
    return;
  }
  var res = { errMsg: 'openBusinessView:ok', errCode: 0 };
  var extra = visit.appShow.referrerInfo && visit.appShow.referrerInfo.extraData;
  if (extra) res.extraData = clone(extra);
  ctx.reply(true, res);
}

// enterOptions is what App.onShow (and onLaunch) receive on the return.
function enterOptions(ctx, appShow) {
  return Object.assign({ path: ctx.path, query: {} }, clone(appShow));
}

// show calls App.onShow and every wx.onAppShow listener with one object, which
// wx.getEnterOptionsSync returns from then on.
function show(ctx, appShow) {
  var s = state;
  var res = enterOptions(ctx, appShow);
  s.enterOptions = res;
  var h = appHook('onShow');
  if (h) call(h.fn, h.self, [res], 'App.onShow');
  s.showListeners.slice().forEach(function (l) { call(l, undefined, [res], 'onAppShow listener'); });
}

// relaunch plays the return as a cold start: WeChat killed the merchant's mini-program while
// the user was in Pay Score, so its listeners and the call's callbacks are gone, and the app
// starts again: App.onLaunch, then App.onShow (and the listeners onLaunch registers), both with
// scene 1038 and the referrerInfo (reference 9.3).
function relaunch(ctx, appShow) {
  var s = state;
  var res = enterOptions(ctx, appShow);
  s.launchOptions = s.enterOptions = res;
  s.showListeners.length = 0;
  s.hideListeners.length = 0;
  var h = appHook('onLaunch');
  if (h) call(h.fn, h.self, [res], 'App.onLaunch');
  h = appHook('onShow');
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
    success: function () { if (state === s) hide(ctx); },
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
    coldStart: !!options.coldStart,
    user: visitUser(wx, options),
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
    launchOptions: undefined,
    showListeners: [],
    hideListeners: [],
    pageLifetimes: new WeakMap(),
    active: null,
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
  if (s.coldStart) {
    var origLaunch = wx.getLaunchOptionsSync;
    patch(wx, 'getLaunchOptionsSync', function () {
      if (s.launchOptions) return s.launchOptions;
      return typeof origLaunch === 'function' ? origLaunch.apply(wx, arguments) : undefined;
    });
  }

  // Capture App()'s options by wrapping the global App; getApp() is the fallback when App()
  // ran before install or the runtime does not let the global be replaced.
  // options.App may name the runtime's App function, or be the App's options object itself.
  if (options.App && typeof options.App === 'object') s.appOptions = options.App;
  var origApp = typeof options.App === 'function' ? options.App : runtimeGlobal('App');
  if (typeof origApp === 'function') wrapApp(s, origApp);
  var origComponent = runtimeGlobal('Component');
  if (typeof origComponent === 'function') wrapComponent(s, origComponent);

  patch(wx, WEBVIEW_HOOK, { webviewUnloaded: webviewUnloaded });
  try {
    Object.defineProperty(wx, WEBVIEW_HOOK, { enumerable: false });
  } catch (e) { /* cosmetic */ }

  log('info', 'installed: wx.openBusinessView' + (s.legacy ? ' removed (legacy: WeChat < 7.0.3)' : '') +
    ' and navigateToMiniProgram(' + PAYSCORE_APPID + ') go to ' + s.simulator + ' (' + s.mode + '). Development builds only.');
  return module.exports;
}

// visitUser is what every visit names of its user: options.openid (else the simulator's default
// user of the order's appid) and, when options.appid is given (true: the running mini-program's,
// from wx.getAccountInfoSync), the invoking appid, which WeChat refuses with 4108 when it is not
// the order's.
function visitUser(wx, options) {
  var user = {};
  if (options.openid) user.openid = String(options.openid);
  var appid = options.appid;
  if (appid === true && typeof wx.getAccountInfoSync === 'function') {
    try {
      appid = wx.getAccountInfoSync().miniProgram.appId;
    } catch (e) {
      log('warn', 'wx.getAccountInfoSync failed; the invoking appid is not sent');
    }
  }
  if (typeof appid === 'string' && appid) user.invoker_appid = appid;
  return user;
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
