//! The reactive face of the API client: [`Load`] reads an endpoint again whenever the signals its
//! request reads change, [`Act`] sends one request per user action.
//!
//! They stand in for leptos' `LocalResource` and `Action` for the size of the WASM: each of those
//! compiles leptos' async-derived (or action) machinery once per request closure, several KB of
//! code each, and views had to await them in `Suspense`/`Transition`, another generic copy per
//! view. Here the scheduling lives in one non-generic driver; what stays generic per call site is
//! the request's own future and a signal of its result. Views read the result as a plain signal:
//! `None` while the first answer is on its way, the last answer while a newer one is (so a list
//! stays on screen, as `Transition` kept it, instead of flashing a loading line).

use std::{cell::Cell, future::Future, pin::Pin, rc::Rc};

use leptos::{prelude::*, task::spawn_local};

type Job = Pin<Box<dyn Future<Output = ()>>>;
/// An [`Act`]'s request, behind one type per input and answer.
type Sender<I, O> = Rc<dyn Fn(I) -> Pin<Box<dyn Future<Output = O>>>>;

/// The answer of a request that is sent again whenever what it reads changes.
pub struct Load<T: 'static> {
    value: RwSignal<Option<T>>,
    loading: RwSignal<bool>,
    again: Trigger,
}

impl<T> Clone for Load<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Load<T> {}

impl<T: Send + Sync + 'static> Load<T> {
    /// Sends `request` once the effect that drives it first runs (on the next tick, where
    /// `LocalResource` sent it at once), and again whenever a signal it reads before its first
    /// `.await` changes. An answer that arrives after a newer request was sent is dropped, so a
    /// slow answer never overwrites a fresher one.
    pub fn new<Fut>(request: impl Fn() -> Fut + 'static) -> Self
    where
        Fut: Future<Output = T> + 'static,
    {
        let value = RwSignal::new(None);
        let loading = RwSignal::new(true);
        let again = Trigger::new();
        drive(
            again,
            loading,
            Box::new(move |latest, n| {
                let answer = request();
                Box::pin(async move {
                    let answer = answer.await;
                    if latest.get() == n {
                        // The view may be gone by now; its signals with it.
                        value.try_set(Some(answer));
                        loading.try_set(false);
                    }
                })
            }),
        );
        Self {
            value,
            loading,
            again,
        }
    }

    /// Whether the latest request is still on its way (the last answer, if any, is stale).
    /// Tracked: views mark what they show as busy with it.
    pub fn loading(&self) -> bool {
        self.loading.get()
    }

    /// Sends the request again (e.g. "Retry"); the last answer stays until the new one arrives.
    pub fn refetch(&self) {
        self.again.notify();
    }
}

impl<T: Clone + Send + Sync + 'static> Load<T> {
    /// The last answer; `None` until the first arrives. Tracked.
    pub fn get(&self) -> Option<T> {
        self.value.get()
    }

    /// The last answer, untracked.
    pub fn get_untracked(&self) -> Option<T> {
        self.value.get_untracked()
    }
}

/// Runs `start` in an effect: when the effect first runs, then whenever what `start` reads or
/// `again` changes. `start` gets the run's number and the number of the latest run, to drop
/// stale answers; it clears `loading` when the latest run's answer lands.
fn drive(again: Trigger, loading: RwSignal<bool>, start: Box<dyn Fn(Rc<Cell<u64>>, u64) -> Job>) {
    let latest = Rc::new(Cell::new(0u64));
    Effect::new(move |_| {
        again.track();
        if !loading.get_untracked() {
            loading.set(true);
        }
        let n = latest.get() + 1;
        latest.set(n);
        spawn_local(start(latest.clone(), n));
    });
}

/// A request sent on a user action (a click, a submit), with its last answer, how many have
/// finished (to read dependent data again) and whether one is on its way.
pub struct Act<I: 'static, O: 'static> {
    send: StoredValue<Sender<I, O>, LocalStorage>,
    value: RwSignal<Option<O>>,
    version: RwSignal<usize>,
    in_flight: RwSignal<usize>,
}

impl<I, O> Clone for Act<I, O> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<I, O> Copy for Act<I, O> {}

impl<I: 'static, O: Send + Sync + 'static> Act<I, O> {
    pub fn new<Fut>(send: impl Fn(I) -> Fut + 'static) -> Self
    where
        Fut: Future<Output = O> + 'static,
    {
        let send: Sender<I, O> = Rc::new(move |input| Box::pin(send(input)));
        Self {
            send: StoredValue::new_local(send),
            value: RwSignal::new(None),
            version: RwSignal::new(0),
            in_flight: RwSignal::new(0),
        }
    }

    /// Sends the request; its answer lands in [`Act::value`].
    pub fn dispatch(&self, input: I) {
        let Some(send) = self.send.try_get_value() else {
            return;
        };
        let (value, version, in_flight) = (self.value, self.version, self.in_flight);
        in_flight.try_update(|n| *n += 1);
        let answer = send(input);
        spawn_local(async move {
            let answer = answer.await;
            value.try_set(Some(answer));
            version.try_update(|n| *n += 1);
            in_flight.try_update(|n| *n -= 1);
        });
    }

    /// The last answer; tracked.
    pub fn value(&self) -> RwSignal<Option<O>> {
        self.value
    }

    /// How many requests have finished; read it to load dependent data again after each.
    pub fn version(&self) -> RwSignal<usize> {
        self.version
    }

    /// Whether a request is on its way; tracked.
    pub fn pending(&self) -> bool {
        self.in_flight.get() > 0
    }
}
