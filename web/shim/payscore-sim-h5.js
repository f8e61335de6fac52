/*
 * payscore-sim H5 shim: points an H5 page's WeChat Pay Score calls at a local payscore-sim.
 *
 * DEVELOPMENT BUILDS ONLY. Load it after jweixin (if you load jweixin at all):
 *
 *   <script src="http://SIM/shim/payscore-sim-h5.js" data-simulator="http://SIM"></script>
 *
 * It replaces the 'openBusinessView' case of wx.invoke(name, args, cb) and
 * WeixinJSBridge.invoke(name, args, cb): the shim opens a visit at the simulator with
 * {businessType, queryString}, shows the simulator's Pay Score page over your page, waits until
 * you leave it with one of its buttons, and calls cb as WeChat does:
 *
 *   return with params         {err_code: 0, err_msg: 'openBusinessView:ok', extraData: {query_id}}
 *   back icon without params   {err_code: 1, err_msg: 'openBusinessView:cancel'}
 *   rejected by the simulator  {err_code: <WeChat's code or -1>, err_msg: 'openBusinessView:fail <message>',
 *                               simulator: <the diagnostic>}
 *
 * err_code is a Number, as on iOS, or a string, as on Android, with data-platform="android" or
 * window.PAYSCORE_SIM = {platform: 'android'}. Other invoke names go to the real bridge when
 * there is one. Without jweixin the shim also provides wx.config, wx.ready, wx.error and
 * wx.checkJsApi, so the official sample runs as it is.
 *
 * Settings, read at each call; window.PAYSCORE_SIM wins over the script tag's data attributes:
 *   simulator      the simulator's base URL (default: where this script was loaded from)
 *   platform       'ios' (default) or 'android'
 *   pollInterval   milliseconds between polls of the visit (default 300)
 *   token          the simulator's control token, when it was started with --control-token
 *                  (data-token); sent as the X-Payscore-Sim-Token header, never in a cookie
 *
 * The simulator answers CORS to pages on loopback (localhost, 127.0.0.1, any port) and to the
 * origins given with its --cors-origin; a page served from anywhere else needs the latter.
 *
 * Plain ES2017, no dependencies, no build step.
 */
(function () {
  'use strict';

  var PREFIX = '[payscore-sim]';
  var script = document.currentScript;
  var OVERLAY_ID = 'payscore-sim-overlay';

  function scriptAttr(name) {
    return (script && script.getAttribute('data-' + name)) || '';
  }

  // Read once: document.currentScript is only set while this script runs.
  var tagSettings = {
    simulator: scriptAttr('simulator') || (script && script.src ? new URL('..', script.src).href : ''),
    platform: scriptAttr('platform'),
    pollInterval: Number(scriptAttr('poll-interval')) || 0,
    token: scriptAttr('token'),
  };

  function settings() {
    var g = window.PAYSCORE_SIM || {};
    return {
      simulator: String(g.simulator || tagSettings.simulator || '').replace(/\/+$/, ''),
      platform: String(g.platform || tagSettings.platform || 'ios').toLowerCase(),
      pollInterval: Number(g.pollInterval) || tagSettings.pollInterval || 300,
      token: String(g.token || tagSettings.token || ''),
    };
  }

  // headers are a request's headers with the control token, when one is set.
  function headers(h) {
    h = Object.assign({}, h);
    var token = settings().token;
    if (token) {
      h['X-Payscore-Sim-Token'] = token;
    }
    return h;
  }

  var inWeChat = /MicroMessenger/i.test(navigator.userAgent);

  // errCode is err_code as the platform gives it: a Number on iOS, a string on Android.
  function errCode(n) {
    return settings().platform === 'android' ? String(n) : n;
  }

  // answer calls cb asynchronously, as the bridge does, so that an exception in the merchant's
  // callback shows in the console as theirs.
  function answer(cb, res) {
    if (typeof cb === 'function') {
      setTimeout(function () { cb(res); }, 0);
    }
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  var open = null; // the visit on screen: {id, overlay, closing}

  // openBusinessView opens a visit at the simulator and answers cb once the user has left it.
  async function openBusinessView(args, cb) {
    var sim = settings().simulator;
    args = args || {};
    if (open) {
      answer(cb, { err_code: errCode(-1), err_msg: 'openBusinessView:fail payscore-sim: another Pay Score page is already open' });
      return;
    }
    var resp, body;
    try {
      resp = await fetch(sim + '/sim/v1/visits', {
        method: 'POST',
        headers: headers({ 'Content-Type': 'application/json' }),
        body: JSON.stringify({ businessType: args.businessType, queryString: args.queryString }),
      });
      body = await resp.json().catch(function () { return null; });
    } catch (e) {
      console.error(PREFIX, 'cannot reach the simulator at ' + sim + ' (is it running? is the address right?)', e);
      answer(cb, { err_code: errCode(-1), err_msg: 'openBusinessView:fail payscore-sim unreachable at ' + sim + ': ' + e.message });
      return;
    }
    if (resp.status !== 201 || !body || !body.visit_id) {
      var message = (body && body.message) || 'HTTP ' + resp.status;
      var code = body && body.detail && typeof body.detail.err_code === 'number' ? body.detail.err_code : -1;
      console.warn(PREFIX, 'openBusinessView rejected: ' + message, body);
      answer(cb, { err_code: errCode(code), err_msg: 'openBusinessView:fail ' + message, simulator: body });
      return;
    }
    open = { id: body.visit_id, overlay: showOverlay(body.page_url), closing: false };
    console.info(PREFIX, 'visit ' + body.visit_id + ' opened: ' + body.page_url);
    var res = await waitForOutcome(sim, open);
    removeOverlay(open.overlay);
    open = null;
    console.info(PREFIX, 'openBusinessView callback', res);
    answer(cb, res);
  }

  // waitForOutcome polls the visit until the user has left the page, and returns what the
  // callback gets.
  async function waitForOutcome(sim, visit) {
    var url = sim + '/sim/v1/visits/' + encodeURIComponent(visit.id);
    for (;;) {
      await sleep(settings().pollInterval);
      var resp, v;
      try {
        resp = await fetch(url, { cache: 'no-store', headers: headers() });
        v = await resp.json();
      } catch (e) {
        console.warn(PREFIX, 'polling the visit failed; trying again', e);
        continue;
      }
      if (resp.status === 404) {
        // The simulator lost the visit (reset, or restarted with an in-memory database).
        return { err_code: errCode(-1), err_msg: 'openBusinessView:fail payscore-sim: ' + (v.message || 'the visit is gone'), simulator: v };
      }
      if (!resp.ok || !v.outcome || !v.h5Callback) {
        continue;
      }
      var h = v.h5Callback;
      var res = { err_code: errCode(h.err_code), err_msg: h.err_msg };
      if (h.extraData) {
        res.extraData = h.extraData;
      }
      return res;
    }
  }

  function showOverlay(pageURL) {
    var overlay = document.createElement('div');
    overlay.id = OVERLAY_ID;
    overlay.setAttribute('role', 'dialog');
    overlay.setAttribute('aria-label', 'payscore-sim: simulated WeChat Pay Score');
    // Each element starts from all: initial, so that the merchant's own CSS (a rule for every
    // button, say) cannot reshape the overlay.
    Object.assign(overlay.style, {
      all: 'initial', position: 'fixed', top: '0', left: '0', right: '0', bottom: '0', zIndex: '2147483647',
      display: 'flex', flexDirection: 'column', background: '#ededed', margin: '0',
    });

    var bar = document.createElement('div');
    bar.id = 'payscore-sim-titlebar';
    Object.assign(bar.style, {
      all: 'initial', display: 'flex', alignItems: 'center', gap: '8px', flex: '0 0 auto', height: '28px',
      padding: '0 8px', background: '#2b2b2b', color: '#fff',
      font: '12px/28px -apple-system, system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif',
    });
    var title = document.createElement('span');
    title.id = 'payscore-sim-title';
    title.textContent = 'payscore-sim · 模拟器，不是微信 simulator, not WeChat';
    Object.assign(title.style, {
      all: 'initial', font: 'inherit', color: 'inherit', minWidth: '0', flex: '1 1 auto', overflow: 'hidden', whiteSpace: 'nowrap', textOverflow: 'ellipsis',
    });
    var close = document.createElement('button');
    close.id = 'payscore-sim-close';
    close.type = 'button';
    close.textContent = '✕';
    close.title = '关闭 = 左上角返回 / close = back icon without params';
    Object.assign(close.style, {
      all: 'initial', flex: '0 0 auto', border: '0', background: 'transparent', color: '#fff', font: 'inherit',
      fontSize: '14px', cursor: 'pointer', padding: '0 4px',
    });
    close.addEventListener('click', closeAsBack);
    bar.appendChild(title);
    bar.appendChild(close);

    var frame = document.createElement('iframe');
    frame.id = 'payscore-sim-frame';
    frame.title = 'WeChat Pay Score (payscore-sim)';
    frame.src = pageURL;
    Object.assign(frame.style, {
      all: 'initial', display: 'block', flex: '1 1 auto', width: '100%', minHeight: '0', border: '0', background: '#fff',
    });

    overlay.appendChild(bar);
    overlay.appendChild(frame);
    overlay.savedOverflow = document.documentElement.style.overflow;
    document.documentElement.style.overflow = 'hidden';
    document.body.appendChild(overlay);
    return overlay;
  }

  function removeOverlay(overlay) {
    document.documentElement.style.overflow = overlay.savedOverflow || '';
    if (overlay.parentNode) {
      overlay.parentNode.removeChild(overlay);
    }
  }

  // closeAsBack is the title bar's ✕: the user leaves as with the back icon; the poll then
  // sees the outcome.
  async function closeAsBack() {
    if (!open || open.closing) {
      return;
    }
    open.closing = true;
    var url = settings().simulator + '/sim/v1/visits/' + encodeURIComponent(open.id) + '/back';
    try {
      var resp = await fetch(url, { method: 'POST', headers: headers() });
      if (!resp.ok) {
        console.warn(PREFIX, 'the simulator refused the back icon', await resp.json().catch(function () { return null; }));
      }
    } catch (e) {
      console.warn(PREFIX, 'cannot reach the simulator', e);
    }
    if (open) {
      open.closing = false;
    }
  }

  function unsupported(name, cb) {
    answer(cb, { err_msg: name + ':fail not supported by payscore-sim' });
  }

  // wrapInvoke returns an invoke that handles openBusinessView and passes every other name to
  // real (the bridge's or jweixin's own invoke), if any.
  function wrapInvoke(real) {
    var invoke = function (name, args, cb) {
      if (name === 'openBusinessView') {
        openBusinessView(args, cb);
      } else if (real) {
        return real.apply(this, arguments);
      } else {
        unsupported(name, cb);
      }
    };
    invoke.payscoreSim = true;
    return invoke;
  }

  function patchBridge(bridge) {
    if (bridge && typeof bridge.invoke === 'function' && !bridge.invoke.payscoreSim) {
      bridge.invoke = wrapInvoke(bridge.invoke);
    }
  }

  // WeixinJSBridge: inside WeChat the real bridge may arrive after this script; patch it as
  // soon as it is ready, before the page's own WeixinJSBridgeReady listeners run.
  if (window.WeixinJSBridge) {
    patchBridge(window.WeixinJSBridge);
  } else if (inWeChat) {
    window.addEventListener('WeixinJSBridgeReady', function () { patchBridge(window.WeixinJSBridge); }, true);
  } else {
    window.WeixinJSBridge = { invoke: wrapInvoke(null), on: function () {}, call: function () {} };
    var ready = function () {
      document.dispatchEvent(new Event('WeixinJSBridgeReady'));
    };
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', ready);
    } else {
      setTimeout(ready, 0);
    }
  }

  // wx: jweixin's object when it is loaded (load this script after it), else the shim's own.
  var realWx = window.wx;
  var wx = realWx || (window.wx = {});
  // Other names go to jweixin's invoke or, without it, to the bridge (the real one passes them
  // on; the shim's own answers "not supported").
  wx.invoke = wrapInvoke(typeof wx.invoke === 'function' ? wx.invoke : function (name, args, cb) {
    if (window.WeixinJSBridge && typeof window.WeixinJSBridge.invoke === 'function') {
      window.WeixinJSBridge.invoke(name, args, cb);
    } else {
      unsupported(name, cb);
    }
  });
  if (!realWx) {
    wx.config = function () {};
    wx.ready = function (fn) { setTimeout(fn, 0); };
    wx.error = function () {};
  }

  // checkJsApi reports openBusinessView as supported. Outside WeChat (or without jweixin) the
  // shim answers alone, and reports every other API as unsupported.
  var realCheck = typeof wx.checkJsApi === 'function' ? wx.checkJsApi : null;
  wx.checkJsApi = function (opts) {
    opts = opts || {};
    var list = opts.jsApiList || [];
    if (realCheck && inWeChat) {
      return realCheck.call(wx, Object.assign({}, opts, {
        success: function (res) {
          var result = res && res.checkResult;
          if (typeof result === 'string') {
            try { result = JSON.parse(result); } catch (e) { result = {}; }
          }
          res = Object.assign({}, res, { checkResult: Object.assign({}, result, { openBusinessView: true }) });
          if (typeof opts.success === 'function') {
            opts.success(res);
          }
        },
      }));
    }
    var checkResult = {};
    list.forEach(function (name) { checkResult[name] = name === 'openBusinessView'; });
    var res = { checkResult: checkResult, errMsg: 'checkJsApi:ok' };
    setTimeout(function () {
      if (typeof opts.success === 'function') {
        opts.success(res);
      }
      if (typeof opts.complete === 'function') {
        opts.complete(res);
      }
    }, 0);
  };

  console.info(PREFIX, 'H5 shim installed: wx.invoke / WeixinJSBridge.invoke("openBusinessView") go to ' + settings().simulator +
    ' (err_code as on ' + (settings().platform === 'android' ? 'Android' : 'iOS') + ')');
})();
