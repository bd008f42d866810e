//! [`ReconnectTriggers`]: the events besides a close that make a reconnecting connection
//! act at once.

/// The events that make a [`ReconnectingWebSocket`](super::ReconnectingWebSocket) act
/// without waiting for its backoff or its timers. All are on by default; each can be
/// turned off with [`ReconnectPolicy::triggers`](super::ReconnectPolicy::triggers).
///
/// | trigger | event | what it does |
/// |---|---|---|
/// | [`online`](Self::online) | `online` on the global object | a waiting attempt starts now instead of after its backoff |
/// | [`offline`](Self::offline) | `offline` (and `navigator.onLine` at creation) | until `online`, failed attempts do not count toward the [limit](super::ReconnectPolicy::reconnect_limit) |
/// | [`visible`](Self::visible) | `visibilitychange` to `"visible"` on the document | a *check* |
/// | [`pageshow`](Self::pageshow) | `pageshow` with `persisted` (restored from the back-forward cache) | a *check* |
/// | [`slept`](Self::slept) | the heartbeat's timer fires more than twice its period plus one second late (the machine slept, or the tab was frozen) | a *check* |
///
/// A *check* starts a waiting attempt now; on an open connection it sends the
/// [heartbeat](crate::socket::Builder::heartbeat) at once (if the builder has one, and
/// nothing else is waiting to be sent, which would test the connection as well), so
/// that a connection that died while the page slept fails or times out
/// ([idle timeout](crate::socket::Builder::idle_timeout)) and is replaced, while a live
/// one answers. Without a heartbeat a check leaves an open connection alone.
///
/// `online`, `offline` and `visible`/`pageshow` are listened to where they exist: the
/// first two in windows and workers, the others in windows only. Outside the browser
/// only `slept` applies.
///
/// ```
/// use wasm_websocket::{ReconnectPolicy, ReconnectTriggers};
///
/// // Keep the backoff even when the network comes back; everything else as by default.
/// let policy = ReconnectPolicy::new().triggers(ReconnectTriggers::all().online(false));
/// assert_ne!(policy, ReconnectPolicy::new());
/// assert_eq!(ReconnectTriggers::default(), ReconnectTriggers::all());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use = "triggers do nothing until given to `ReconnectPolicy::triggers`"]
pub struct ReconnectTriggers {
    online: bool,
    offline: bool,
    visible: bool,
    pageshow: bool,
    slept: bool,
}

impl Default for ReconnectTriggers {
    fn default() -> Self {
        Self::all()
    }
}

impl ReconnectTriggers {
    /// Every trigger on (the default).
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(ReconnectTriggers::all().is_slept());
    /// ```
    pub const fn all() -> Self {
        ReconnectTriggers {
            online: true,
            offline: true,
            visible: true,
            pageshow: true,
            slept: true,
        }
    }

    /// Every trigger off: the connection acts only on its own closes and timers.
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(!ReconnectTriggers::none().is_online());
    /// ```
    pub const fn none() -> Self {
        ReconnectTriggers {
            online: false,
            offline: false,
            visible: false,
            pageshow: false,
            slept: false,
        }
    }

    /// The `online` event starts a waiting attempt now.
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(ReconnectTriggers::none().online(true).is_online());
    /// ```
    pub const fn online(mut self, on: bool) -> Self {
        self.online = on;
        self
    }

    /// While offline, failed attempts do not count toward the limit.
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(!ReconnectTriggers::all().offline(false).is_offline());
    /// ```
    pub const fn offline(mut self, on: bool) -> Self {
        self.offline = on;
        self
    }

    /// The page becoming visible again makes a check.
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(!ReconnectTriggers::all().visible(false).is_visible());
    /// ```
    pub const fn visible(mut self, on: bool) -> Self {
        self.visible = on;
        self
    }

    /// The page being restored from the back-forward cache makes a check.
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(!ReconnectTriggers::all().pageshow(false).is_pageshow());
    /// ```
    pub const fn pageshow(mut self, on: bool) -> Self {
        self.pageshow = on;
        self
    }

    /// A heartbeat timer that fired far too late (the machine slept) makes a check.
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(!ReconnectTriggers::all().slept(false).is_slept());
    /// ```
    pub const fn slept(mut self, on: bool) -> Self {
        self.slept = on;
        self
    }

    /// Whether [`online`](Self::online) is on.
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(ReconnectTriggers::default().is_online());
    /// ```
    pub const fn is_online(&self) -> bool {
        self.online
    }

    /// Whether [`offline`](Self::offline) is on.
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(ReconnectTriggers::default().is_offline());
    /// ```
    pub const fn is_offline(&self) -> bool {
        self.offline
    }

    /// Whether [`visible`](Self::visible) is on.
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(ReconnectTriggers::default().is_visible());
    /// ```
    pub const fn is_visible(&self) -> bool {
        self.visible
    }

    /// Whether [`pageshow`](Self::pageshow) is on.
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(ReconnectTriggers::default().is_pageshow());
    /// ```
    pub const fn is_pageshow(&self) -> bool {
        self.pageshow
    }

    /// Whether [`slept`](Self::slept) is on.
    ///
    /// ```
    /// # use wasm_websocket::ReconnectTriggers;
    /// assert!(ReconnectTriggers::default().is_slept());
    /// ```
    pub const fn is_slept(&self) -> bool {
        self.slept
    }

    /// Whether `wake` is on.
    pub(super) fn allows(&self, wake: Wake) -> bool {
        match wake {
            Wake::Visible => self.visible,
            Wake::PageShow => self.pageshow,
            Wake::Slept => self.slept,
        }
    }
}

/// Why a check is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Outside the browser only `Slept` happens.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(super) enum Wake {
    /// The page became visible.
    Visible,
    /// The page was restored from the back-forward cache.
    PageShow,
    /// A timer fired far later than it was due.
    Slept,
}
