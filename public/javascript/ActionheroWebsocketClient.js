/*
 * ActionheroWebsocketClient: the browser client of actionhero-c.
 *
 * A dependency-free script.  In a page:
 *
 *   <script src="/public/javascript/ActionheroWebsocketClient.js"></script>
 *   var client = new ActionheroWebsocketClient();
 *   client.connect(function (error, details) { ... });
 *
 * In Node (20 has no global WebSocket; pass one, e.g. the `ws` package):
 *
 *   const { ActionheroWebsocketClient } = require('./ActionheroWebsocketClient.js');
 *   const client = new ActionheroWebsocketClient({ url: 'http://127.0.0.1:8080', WebSocket });
 *
 * It speaks the Primus 8 wire protocol (websockets transformer, JSON parser)
 * over a plain WebSocket: one JSON document per text frame, control strings
 * "primus::ping::<n>" (answered with "primus::pong::<n>") and
 * "primus::server::close" (the server ended us: do not reconnect).
 *
 * Public API and events are those of Actionhero 29's client; see the
 * project's spec (websocket.md section 6).  Differences, on purpose:
 *  - after an automatic reconnect the client re-joins the rooms it was in and
 *    refreshes `id` / `fingerprint` (detailsView), then emits `reconnected`
 *    and `connected`; messages written while the socket was down are sent
 *    once that is done;
 *  - a callback whose request was on a socket that closed before the answer
 *    came is called once with {error: "connection closed before the response
 *    arrived", context: "response", messageId};
 *  - action() copies `params` instead of adding `action` to the caller's object;
 *  - the HTTP fallback (actionWeb) asks <url><apiPath>/<action> (v29 ignores
 *    ?action=, so that form could never work) and URL-encodes GET params;
 *  - `reconnecting` is emitted when a reconnect attempt is scheduled
 *    (with {attempt, delay}), `reconnect` when it starts;
 *  - the buffer of messages written while disconnected is bounded
 *    (options.queueSize, default 1000).
 */
(function (root) {
  'use strict';

  // ---------------------------------------------------------------- emitter

  function Emitter() {}

  Emitter.prototype.on = function (event, fn) {
    if (typeof fn !== 'function') throw new TypeError('listener must be a function');
    if (!this._events) this._events = {};
    (this._events[event] || (this._events[event] = [])).push(fn);
    return this;
  };
  Emitter.prototype.addListener = Emitter.prototype.on;

  Emitter.prototype.once = function (event, fn) {
    var self = this;
    function wrapper() {
      self.removeListener(event, wrapper);
      return fn.apply(self, arguments);
    }
    wrapper.listener = fn;
    return this.on(event, wrapper);
  };

  Emitter.prototype.removeListener = function (event, fn) {
    var list = this._events && this._events[event];
    if (!list) return this;
    for (var i = list.length - 1; i >= 0; i--) {
      if (list[i] === fn || list[i].listener === fn) {
        list.splice(i, 1);
        break;
      }
    }
    if (list.length === 0) delete this._events[event];
    return this;
  };
  Emitter.prototype.off = Emitter.prototype.removeListener;

  Emitter.prototype.removeAllListeners = function (event) {
    if (!this._events) return this;
    if (event === undefined) this._events = {};
    else delete this._events[event];
    return this;
  };

  Emitter.prototype.listeners = function (event) {
    var list = this._events && this._events[event];
    var out = [];
    if (list) for (var i = 0; i < list.length; i++) out.push(list[i].listener || list[i]);
    return out;
  };

  Emitter.prototype.listenerCount = function (event) {
    return (this._events && this._events[event]) ? this._events[event].length : 0;
  };

  // A throwing listener must not break the client's own bookkeeping: it is
  // reported asynchronously (like an uncaught error in an event handler).
  Emitter.prototype.emit = function (event) {
    var list = this._events && this._events[event];
    if (!list || list.length === 0) return false;
    var args = Array.prototype.slice.call(arguments, 1);
    list = list.slice();
    for (var i = 0; i < list.length; i++) {
      try {
        list[i].apply(this, args);
      } catch (e) {
        rethrow(e);
      }
    }
    return true;
  };

  function rethrow(e) {
    setTimeout(function () { throw e; }, 0);
  }

  // ------------------------------------------------------------- constants

  var CONNECTING = 0;
  var OPEN = 1;
  var CLOSED_TEXT = 'connection closed before the response arrived';
  var QUEUE_FULL_TEXT = 'the client is not connected and its send queue is full';

  function defaultUrl() {
    if (typeof window !== 'undefined' && window.location && window.location.origin &&
        window.location.origin !== 'null') {
      return window.location.origin;
    }
    return undefined;
  }

  function noop() {}

  function isArray(x) {
    return Object.prototype.toString.call(x) === '[object Array]';
  }

  function callSafely(fn, args) {
    if (typeof fn !== 'function') return;
    try {
      fn.apply(null, args);
    } catch (e) {
      rethrow(e);
    }
  }

  // --------------------------------------------------------------- client

  /**
   * new ActionheroWebsocketClient(options?, WebSocketImpl?)
   *
   * options (merged over defaults()):
   *   url         origin of the server (default window.location.origin)
   *   apiPath     "/api"; cookieKey "sessionID" (copied from document.cookie
   *               into the query as <cookieKey>=<value>)
   *   pathname    "/primus"
   *   timeout     connect timeout in ms (10000; false: none)
   *   pingTimeout ms without a server ping before the link is taken as dead
   *               (45000 = 1.5 x the server's 30 s pingInterval; false: none)
   *   reconnect   {min: 500, max: Infinity, retries: 10, factor: 2,
   *               timeout: 30000} or false to never reconnect
   *   strategy    "disconnect,online,timeout" (string or array); false or
   *               "none" disables automatic reconnection
   *   queueSize   messages kept while not connected (1000)
   *   WebSocket   WebSocket constructor (default: the global one)
   *   cookie      a Cookie-header-like string read when there is no
   *               document.cookie (Node)
   */
  function ActionheroWebsocketClient(options, WebSocketImpl) {
    var self = this;
    self.callbacks = {};
    self.id = null;
    self.fingerprint = null;
    self.rooms = [];
    self.state = 'disconnected';
    self.welcomeMessage = null;
    self.messageId = 0;
    self.socket = null;

    self.options = self.defaults();
    if (options) {
      for (var key in options) {
        if (Object.prototype.hasOwnProperty.call(options, key)) self.options[key] = options[key];
      }
    }
    if (typeof WebSocketImpl === 'function') self.options.WebSocket = WebSocketImpl;

    var rc = self.options.reconnect;
    var rdef = { min: 500, max: Infinity, retries: 10, factor: 2, timeout: 30000 };
    if (rc === false) {
      self._reconnect = null;
    } else {
      self._reconnect = rdef;
      if (rc && typeof rc === 'object') {
        for (var r in rdef) if (rc[r] !== undefined) rdef[r] = rc[r];
      }
    }
    var strategy = self.options.strategy;
    if (strategy === false || strategy === 'none' || strategy === null) strategy = [];
    else if (typeof strategy === 'string') strategy = strategy.split(/\s*,\s*/);
    else if (!isArray(strategy)) strategy = ['disconnect', 'online', 'timeout'];
    self._strategy = strategy;

    self._queue = [];          // messages written while the socket is not open
    self._inflight = {};       // messageId -> messageId, for messages sent on this socket
    self._timers = {};
    self._attempt = 0;         // current reconnect attempt (0: none)
    self._connectCallback = null;
    self._serverClosed = false;
    self._onlineHandler = null;
  }

  ActionheroWebsocketClient.prototype = new Emitter();
  ActionheroWebsocketClient.prototype.constructor = ActionheroWebsocketClient;

  ActionheroWebsocketClient.prototype.defaults = function () {
    return {
      apiPath: '/api',
      cookieKey: 'sessionID',
      url: defaultUrl(),
      pathname: '/primus',
      timeout: 10000,
      pingTimeout: 45000,
      reconnect: {},
      strategy: 'disconnect,online,timeout',
      queueSize: 1000
    };
  };

  // ------------------------------------------------------------ connection

  /**
   * Open the socket.  On open: re-join the rooms in `rooms`, then detailsView
   * (stores id, fingerprint, rooms), state "connected", emit "connected",
   * then callback(null, detailsReply).  If the client gives up before the
   * first open, callback(error).
   */
  ActionheroWebsocketClient.prototype.connect = function (callback) {
    var self = this;
    self.state = 'connecting';
    self._teardown();
    self._stopTimer('reconnect');
    self._attempt = 0;
    self._serverClosed = false;
    self._connectCallback = typeof callback === 'function' ? callback : null;
    self._listenOnline(true);
    self._open(false);
  };

  ActionheroWebsocketClient.prototype.urlWithSession = function () {
    var url = String(this.options.url || '');
    if (!url) throw new Error('ActionheroWebsocketClient: options.url is required outside a browser');
    url = url.replace(/^http(s?):/i, 'ws$1:').replace(/\/+$/, '');
    var query = [];
    var key = this.options.cookieKey;
    if (key && key.length > 0) {
      var value = this.getCookie(key);
      if (value && value.length > 0) {
        query.push(encodeURIComponent(key) + '=' + encodeURIComponent(value));
      }
    }
    ActionheroWebsocketClient._cacheBuster = (ActionheroWebsocketClient._cacheBuster || 0) + 1;
    query.push('_primuscb=' + Date.now().toString(36) + '-' + ActionheroWebsocketClient._cacheBuster);
    return url + (this.options.pathname || '/primus') + '?' + query.join('&');
  };

  ActionheroWebsocketClient.prototype.getCookie = function (name) {
    var jar = '';
    if (typeof document !== 'undefined' && typeof document.cookie === 'string') jar = document.cookie;
    if (!jar && typeof this.options.cookie === 'string') jar = this.options.cookie;
    if (!jar) return undefined;
    var pieces = jar.split(';');
    for (var i = 0; i < pieces.length; i++) {
      var piece = pieces[i];
      var eq = piece.indexOf('=');
      if (eq < 0) continue;
      if (piece.slice(0, eq).trim() !== name) continue;
      var value = piece.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch (e) {
        return value;
      }
    }
    return undefined;
  };

  ActionheroWebsocketClient.prototype._WebSocket = function () {
    var Impl = this.options.WebSocket;
    if (!Impl && typeof WebSocket !== 'undefined') Impl = WebSocket; // eslint-disable-line no-undef
    if (!Impl) throw new Error('ActionheroWebsocketClient: no WebSocket implementation (pass options.WebSocket)');
    return Impl;
  };

  // Open a socket; `reconnecting` says whether this is an automatic attempt.
  ActionheroWebsocketClient.prototype._open = function (reconnecting) {
    var self = this;
    var ws;
    try {
      var Impl = self._WebSocket();
      ws = new Impl(self.urlWithSession());
    } catch (e) {
      // a bad URL or a missing implementation will not get better by retrying
      self.emit('error', e);
      self._finish(e);
      return;
    }
    self.socket = ws;
    self._inflight = {};
    self._serverClosed = false;

    ws.onopen = function () {
      if (self.socket !== ws) return;
      self._heartbeat();
      self._configure(reconnecting);
    };
    ws.onmessage = function (event) {
      if (self.socket !== ws) return;
      self._onFrame(event.data);
    };
    ws.onerror = function (event) {
      if (self.socket !== ws) return;
      // Browsers give no detail; a close event always follows.
      var err = new Error('websocket error');
      err.event = event;
      if (event && event.message) err.message = event.message;
      if (!reconnecting) self.emit('error', err);
    };
    ws.onclose = function (event) {
      if (self.socket !== ws) return;
      self._lost(event && event.code, false);
    };

    var limit = reconnecting ? (self._reconnect && self._reconnect.timeout) : self.options.timeout;
    if (limit) {
      // covers the handshake and the configure step after it
      self._startTimer('connect', limit, function () {
        if (self.socket !== ws) return;
        self.emit('timeout');
        self._lost(undefined, true);
      });
    }
  };

  // Runs on every open: re-join rooms, refresh details, flush the queue.
  ActionheroWebsocketClient.prototype._configure = function (reconnecting) {
    var self = this;
    var ws = self.socket;
    var rooms = self.rooms.slice();
    var pending = rooms.length;

    function details() {
      if (self.socket !== ws) return;
      self._sendNow({ event: 'detailsView' }, function (reply) {
        if (self.socket !== ws) return;
        if (!reply || !reply.data || reply.error) {
          // the socket died under us or the server refused: treat as a loss
          if (reply && reply.error === CLOSED_TEXT) return;
          self.emit('error', new Error('detailsView failed: ' + (reply && reply.error)));
          self._lost(undefined, true);
          return;
        }
        self.id = reply.data.id;
        self.fingerprint = reply.data.fingerprint;
        if (isArray(reply.data.rooms)) self.rooms = reply.data.rooms.slice();
        self._stopTimer('connect');
        self._attempt = 0;
        self.state = 'connected';
        self._flush();
        if (reconnecting) self.emit('reconnected', reply);
        self.emit('connected', reply);
        var cb = self._connectCallback;
        self._connectCallback = null;
        if (cb) callSafely(cb, [null, reply]);
      });
    }

    if (pending === 0) return details();
    for (var i = 0; i < rooms.length; i++) {
      self._sendNow({ event: 'roomAdd', room: rooms[i] }, function () {
        pending--;
        if (pending === 0) details();
      });
    }
  };

  // The socket is gone (closed by the peer or the network, or we gave up on
  // it: `abandon`).  Reconnect unless the server ended us, reconnection is
  // off, or the strategy for this cause ("timeout" for a connect or ping
  // timeout, "disconnect" otherwise) is not enabled.
  ActionheroWebsocketClient.prototype._lost = function (code, abandon) {
    var self = this;
    var serverClosed = self._serverClosed;
    var retry = !serverClosed && self._reconnect && self._has(abandon ? 'timeout' : 'disconnect');
    if (!retry) {
      self._finish(new Error(serverClosed ? 'the server closed the connection'
        : 'connection closed' + (code ? ' (' + code + ')' : '')));
      return;
    }
    var was = self.state;
    self.state = 'reconnecting';
    self._teardown();
    if (was === 'connected') self.emit('disconnected');
    self._schedule();
  };

  ActionheroWebsocketClient.prototype._has = function (strategy) {
    return this._strategy.indexOf(strategy) >= 0;
  };

  ActionheroWebsocketClient.prototype._schedule = function () {
    var self = this;
    var rc = self._reconnect;
    if (self._attempt >= rc.retries) {
      var err = new Error('unable to reconnect after ' + self._attempt + ' attempts');
      self.emit('reconnect failed', err);
      self._finish(err);
      return;
    }
    self._attempt++;
    var delay = Math.round((Math.random() + 1) * rc.min * Math.pow(rc.factor, self._attempt - 1));
    if (delay > rc.max) delay = rc.max;
    var info = { attempt: self._attempt, retries: rc.retries, delay: delay };
    self.emit('reconnecting', info);
    self._startTimer('reconnect', delay, function () {
      self.emit('reconnect', info);
      self._open(true);
    });
  };

  // Stop for good: no socket, no timers, every waiting callback answered.
  ActionheroWebsocketClient.prototype._finish = function (err) {
    var self = this;
    var was = self.state;
    self.state = 'disconnected';
    self._teardown();
    self._stopTimer('reconnect');
    self._listenOnline(false);
    var queued = self._queue;
    self._queue = [];
    for (var i = 0; i < queued.length; i++) self._failCallback(queued[i].messageId);
    if (was === 'connected' || was === 'connecting') self.emit('disconnected');
    self.emit('end', err);
    var cb = self._connectCallback;
    self._connectCallback = null;
    if (cb) callSafely(cb, [err]);
  };

  // Forget the current socket: handlers off, closed, in-flight callbacks
  // answered with the "closed" error.
  ActionheroWebsocketClient.prototype._teardown = function () {
    var ws = this.socket;
    this._stopTimer('connect');
    this._stopTimer('heartbeat');
    if (!ws) return;
    this.socket = null;
    // no-ops rather than null: `ws` (Node) throws on an unheard "error"
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = noop;
    if (ws.readyState === CONNECTING || ws.readyState === OPEN) {
      try {
        ws.close(1000);
      } catch (e) {
        /* already closing */
      }
    }
    var inflight = this._inflight;
    this._inflight = {};
    for (var id in inflight) {
      if (Object.prototype.hasOwnProperty.call(inflight, id)) this._failCallback(inflight[id]);
    }
  };

  ActionheroWebsocketClient.prototype._failCallback = function (messageId) {
    var cb = this.callbacks[messageId];
    if (cb === undefined) return;
    delete this.callbacks[messageId];
    callSafely(cb, [{ error: CLOSED_TEXT, context: 'response', messageId: messageId }]);
  };

  ActionheroWebsocketClient.prototype._heartbeat = function () {
    var self = this;
    var limit = self.options.pingTimeout;
    if (!limit) return;
    self._startTimer('heartbeat', limit, function () {
      // no ping from the server for too long: the link is dead
      self.emit('timeout');
      self._lost(undefined, true);
    });
  };

  ActionheroWebsocketClient.prototype._startTimer = function (name, ms, fn) {
    this._stopTimer(name);
    this._timers[name] = setTimeout(fn, ms);
  };

  ActionheroWebsocketClient.prototype._stopTimer = function (name) {
    if (this._timers[name] !== undefined) {
      clearTimeout(this._timers[name]);
      delete this._timers[name];
    }
  };

  // Browsers: when the network comes back, try at once.
  ActionheroWebsocketClient.prototype._listenOnline = function (on) {
    var self = this;
    if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return;
    if (on && !self._onlineHandler && self._has('online')) {
      self._onlineHandler = function () {
        if (self.state !== 'reconnecting' || self._timers.reconnect === undefined) return;
        self.emit('online');
        self._stopTimer('reconnect');
        self._attempt = 0;
        self._open(true);
      };
      window.addEventListener('online', self._onlineHandler, false);
    } else if (!on && self._onlineHandler) {
      window.removeEventListener('online', self._onlineHandler, false);
      self._onlineHandler = null;
    }
  };

  // ------------------------------------------------------------- messages

  ActionheroWebsocketClient.prototype._onFrame = function (raw) {
    if (typeof raw !== 'string') return; // the Primus JSON parser uses text frames only
    var data;
    try {
      data = JSON.parse(raw);
    } catch (e) {
      this.emit('error', new Error('invalid JSON from the server: ' + e.message));
      return;
    }
    if (typeof data === 'string' && data.indexOf('primus::') === 0 && this._protocol(data)) return;
    this.handleMessage(data);
  };

  // Primus control strings; returns false for unknown ones (they are data).
  ActionheroWebsocketClient.prototype._protocol = function (text) {
    var rest = text.slice(8);
    var sep = rest.indexOf('::');
    if (sep < 0) return false;
    var kind = rest.slice(0, sep);
    var value = rest.slice(sep + 2);
    if (kind === 'ping') {
      this._heartbeat();
      this._write('primus::pong::' + value);
      this.emit('ping', value);
      return true;
    }
    if (kind === 'server') {
      if (value === 'close') this._serverClosed = true;
      return true;
    }
    if (kind === 'id') {
      this.emit('primus id', value);
      return true;
    }
    return false;
  };

  ActionheroWebsocketClient.prototype.handleMessage = function (message) {
    this.emit('message', message);
    if (message === null || typeof message !== 'object') return;
    var context = message.context;
    if (context === 'response') {
      var messageId = message.messageId;
      var cb = this.callbacks[messageId];
      delete this.callbacks[messageId];
      delete this._inflight[messageId];
      callSafely(cb, [message]);
    } else if (context === 'user') {
      this.emit('say', message);
    } else if (context === 'alert') {
      this.emit('alert', message);
    } else if (message.welcome && context === 'api') {
      this.welcomeMessage = message.welcome;
      this.emit('welcome', message);
    } else if (context === 'api') {
      this.emit('api', message);
    }
  };

  ActionheroWebsocketClient.prototype._write = function (value) {
    var ws = this.socket;
    if (!ws || ws.readyState !== OPEN) return false;
    ws.send(JSON.stringify(value));
    return true;
  };

  // Assign the messageId and remember the callback.
  ActionheroWebsocketClient.prototype._prepare = function (args, callback) {
    this.messageId++;
    args.messageId = args.params
      ? (args.params.messageId || args.messageId || this.messageId)
      : (args.messageId || this.messageId);
    if (typeof callback === 'function') this.callbacks[args.messageId] = callback;
    return args;
  };

  // Write now on the open socket (used while configuring, before the queue
  // of user messages is flushed).
  ActionheroWebsocketClient.prototype._sendNow = function (args, callback) {
    this._prepare(args, callback);
    if (this._write(args)) this._inflight[args.messageId] = args.messageId;
    else this._failCallback(args.messageId);
  };

  /**
   * send(args, callback): the primitive behind every method.  While the
   * client is connecting or reconnecting the message waits in a bounded queue
   * and is written once the connection is configured.
   */
  ActionheroWebsocketClient.prototype.send = function (args, callback) {
    this._prepare(args, callback);
    if (this.state === 'connected' && this._write(args)) {
      this._inflight[args.messageId] = args.messageId;
      return;
    }
    if (this.state === 'disconnected' || this._queue.length >= this.options.queueSize) {
      var text = this.state === 'disconnected' ? CLOSED_TEXT : QUEUE_FULL_TEXT;
      var cb = this.callbacks[args.messageId];
      delete this.callbacks[args.messageId];
      var id = args.messageId;
      if (cb !== undefined) {
        setTimeout(function () {
          callSafely(cb, [{ error: text, context: 'response', messageId: id }]);
        }, 0);
      }
      return;
    }
    this._queue.push(args);
  };

  ActionheroWebsocketClient.prototype._flush = function () {
    var queued = this._queue;
    this._queue = [];
    for (var i = 0; i < queued.length; i++) {
      if (this._write(queued[i])) this._inflight[queued[i].messageId] = queued[i].messageId;
      else this._queue.push(queued[i]);
    }
  };

  // ---------------------------------------------------------------- actions

  ActionheroWebsocketClient.prototype.action = function (action, params, callback) {
    if (!callback && typeof params === 'function') {
      callback = params;
      params = null;
    }
    var copy = {};
    if (params) {
      for (var key in params) {
        if (Object.prototype.hasOwnProperty.call(params, key)) copy[key] = params[key];
      }
    }
    copy.action = action;
    if (this.state === 'disconnected') this.actionWeb(copy, callback);
    else this.actionWebSocket(copy, callback);
  };

  ActionheroWebsocketClient.prototype.actionWebSocket = function (params, callback) {
    this.send({ event: 'action', params: params }, callback);
  };

  /**
   * HTTP fallback: <method> <url><apiPath>/<action>, JSON body (for GET and
   * HEAD the params go in the query string instead).  callback(body parsed as
   * JSON) or callback({error: {statusText, responseText}}).
   */
  ActionheroWebsocketClient.prototype.actionWeb = function (params, callback) {
    var method = String(params.httpMethod || 'POST').toUpperCase();
    var base = String(this.options.url || '').replace(/\/+$/, '');
    var url = base + this.options.apiPath + '/' + encodeURIComponent(params.action);
    var hasBody = method !== 'GET' && method !== 'HEAD';
    if (!hasBody) {
      var query = [];
      for (var key in params) {
        if (!Object.prototype.hasOwnProperty.call(params, key)) continue;
        if (key === 'action' || key === 'httpMethod') continue;
        var v = params[key];
        if (v !== null && typeof v === 'object') v = JSON.stringify(v);
        query.push(encodeURIComponent(key) + '=' + encodeURIComponent(v));
      }
      if (query.length) url += '?' + query.join('&');
    }
    var body = hasBody ? JSON.stringify(params) : null;

    function finish(status, statusText, text) {
      var response;
      try {
        response = JSON.parse(text);
      } catch (e) {
        response = { error: { statusText: statusText, responseText: text } };
      }
      if (status === 0 && response && response.error === undefined) {
        response = { error: { statusText: statusText, responseText: text } };
      }
      callSafely(callback, [response]);
    }

    if (typeof XMLHttpRequest !== 'undefined') {
      var xhr = new XMLHttpRequest(); // eslint-disable-line no-undef
      xhr.onreadystatechange = function () {
        if (xhr.readyState === 4) finish(xhr.status, xhr.statusText, xhr.responseText);
      };
      xhr.open(method, url, true);
      if (hasBody) xhr.setRequestHeader('Content-Type', 'application/json');
      xhr.send(body);
    } else if (typeof fetch === 'function') {
      var init = { method: method, headers: {} };
      if (hasBody) {
        init.headers['Content-Type'] = 'application/json';
        init.body = body;
      }
      if (typeof this.options.cookie === 'string' && this.options.cookie) init.headers.Cookie = this.options.cookie;
      fetch(url, init).then(function (res) { // eslint-disable-line no-undef
        return res.text().then(function (text) { finish(res.status, res.statusText, text); });
      }, function (err) {
        finish(0, String(err && err.message), '');
      });
    } else {
      finish(0, 'no XMLHttpRequest or fetch available', '');
    }
  };

  // -------------------------------------------------------------- commands

  ActionheroWebsocketClient.prototype.say = function (room, message, callback) {
    this.send({ event: 'say', room: room, message: message }, callback);
  };

  ActionheroWebsocketClient.prototype.file = function (file, callback) {
    this.send({ event: 'file', file: file }, callback);
  };

  ActionheroWebsocketClient.prototype.detailsView = function (callback) {
    this.send({ event: 'detailsView' }, callback);
  };

  ActionheroWebsocketClient.prototype.roomView = function (room, callback) {
    this.send({ event: 'roomView', room: room }, callback);
  };

  // After the answer, refresh `rooms` (and id/fingerprint) with detailsView,
  // then callback(roomAdd reply).
  ActionheroWebsocketClient.prototype.roomAdd = function (room, callback) {
    var self = this;
    self.send({ event: 'roomAdd', room: room }, function (reply) {
      if (reply && !reply.error && self.rooms.indexOf(room) < 0) self.rooms.push(room);
      self._refresh(function () { callSafely(callback, [reply]); });
    });
  };

  ActionheroWebsocketClient.prototype.roomLeave = function (room, callback) {
    var self = this;
    var index = self.rooms.indexOf(room);
    if (index > -1) self.rooms.splice(index, 1);
    self.send({ event: 'roomLeave', room: room }, function (reply) {
      self._refresh(function () { callSafely(callback, [reply]); });
    });
  };

  ActionheroWebsocketClient.prototype._refresh = function (done) {
    var self = this;
    if (self.state !== 'connected') return done();
    self.detailsView(function (details) {
      if (details && details.data && !details.error) {
        self.id = details.data.id;
        self.fingerprint = details.data.fingerprint;
        if (isArray(details.data.rooms)) self.rooms = details.data.rooms.slice();
      }
      done();
    });
  };

  ActionheroWebsocketClient.prototype.documentation = function (callback) {
    this.send({ event: 'documentation' }, callback);
  };

  /** Close the socket for good (no reconnect); emits "disconnected". */
  ActionheroWebsocketClient.prototype.disconnect = function () {
    this.state = 'disconnected';
    this._teardown();
    this._stopTimer('reconnect');
    this._listenOnline(false);
    var queued = this._queue;
    this._queue = [];
    for (var i = 0; i < queued.length; i++) this._failCallback(queued[i].messageId);
    var cb = this._connectCallback;
    this._connectCallback = null;
    this.emit('disconnected');
    if (cb) callSafely(cb, [new Error('disconnected')]);
  };

  // ---------------------------------------------------------------- export

  ActionheroWebsocketClient.Emitter = Emitter;
  if (typeof module === 'object' && module && typeof module.exports === 'object') {
    module.exports = ActionheroWebsocketClient;
    module.exports.ActionheroWebsocketClient = ActionheroWebsocketClient;
  } else if (typeof exports === 'object' && exports) {
    exports.ActionheroWebsocketClient = ActionheroWebsocketClient;
  }
  if (root) root.ActionheroWebsocketClient = ActionheroWebsocketClient;
})(typeof window !== 'undefined' ? window : (typeof globalThis !== 'undefined' ? globalThis : this));
