// payscore-sim: the page that shows the simulated Pay Score mini-program in a web-view.
// Copy this folder to pages/payscore-sim/webview/ and list "pages/payscore-sim/webview/index"
// in app.json's "pages" (development builds only). The shim opens it with ?url=<page_url>.
Page({
  data: { url: '' },
  onLoad(query) {
    const url = decodeURIComponent((query && query.url) || '');
    this.pageURL = url;
    this.setData({ url });
  },
  onUnload() {
    // Leaving with this page's own back icon, before the simulator page ended the visit, is the
    // Pay Score mini-program's top-left back icon: the shim tells the simulator so.
    const hook = wx.__payscoreSim;
    if (hook && this.pageURL) hook.webviewUnloaded(this.pageURL);
  }
});
