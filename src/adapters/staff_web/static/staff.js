// The staff pages' few interactions. Every link and form works without this script; it
// only makes the frequent ones quick: a booking opens in a dialog at once (painted first,
// filled when its fragment arrives), the day/week navigation swaps <main> in place, the
// grid refreshes itself when live.js reports a change to a shown day, a click on an empty
// spot of a column starts a walk-in at that staff member and time, and a form sent once
// cannot be sent again by a second click.
"use strict";
(() => {
  // A page fetched ahead (on hover) is used only this long after it was asked for, and
  // only if no change to the calendar was reported since.
  const PREFETCH_MS = 5000;
  const SWAP_TRIES = 3; // fetches of one swap while changes keep coming in
  const prefetched = new Map(); // URL -> {page: Promise of its HTML, at, changes}
  let changes = 0; // how many changes live.js has reported to this page
  let edited = false; // a form on the page or in the dialog has unsent edits
  let refreshing = null; // a pending refresh, so a burst of changes is one fetch
  let pending = false; // a change came in while the dialog was open: refresh on close
  let opened = 0; // the dialog's openings: a late answer to an earlier one is dropped
  let swaps = 0; // the swaps begun: only the latest one's page is put in place
  let swapping = 0; // swaps on their way

  const main = () => document.querySelector("main");
  // Resolves once the frame showing the click's first response has been painted: heavy
  // work after it does not delay that paint (what Interaction to Next Paint measures).
  const painted = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  const dialog = () => document.getElementById("booking-dialog");
  const gridPage = () => Boolean(main() && main().classList.contains("grid-page"));

  // ``clicked``: the person asked for this page; only then does an ended session take
  // them to the sign-in page (and back after). A fetch in the background (a hover, a
  // refresh after a change) never navigates: it fails, and the page stays as it is.
  async function html(url, clicked) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (response.redirected && new URL(response.url).pathname.endsWith("/login")) {
      if (clicked) location.assign(url);
      throw new Error("signed out");
    }
    if (!response.ok) throw new Error(String(response.status));
    return response.text();
  }

  // A page and the number of changes it has seen: one fetched ahead if still fresh.
  function take(url, clicked) {
    const early = prefetched.get(url);
    prefetched.delete(url);
    if (early && early.changes === changes && performance.now() - early.at < PREFETCH_MS) {
      return early;
    }
    return { page: html(url, clicked), changes };
  }

  function prefetch(url) {
    const early = prefetched.get(url);
    if (early && performance.now() - early.at < PREFETCH_MS) return;
    if (prefetched.size > 4) prefetched.clear();
    const page = html(url, false);
    const entry = { page, at: performance.now(), changes };
    page.catch(() => {
      if (prefetched.get(url) === entry) prefetched.delete(url);
    });
    prefetched.set(url, entry);
  }

  // (a) A booking: the dialog opens in this frame; the fetch fills it afterwards.
  function openBooking(url) {
    const box = dialog();
    const body = box.querySelector(".dialog-body");
    const title = document.createElement("h2");
    title.id = "dialog-title";
    title.textContent = box.dataset.loading;
    body.replaceChildren(title);
    edited = false;
    const mine = ++opened;
    if (!box.open) box.showModal();
    const fragment = new URL(url, location.href);
    fragment.searchParams.set("part", "dialog");
    const current = () => mine === opened && box.open;
    Promise.all([html(fragment, true), painted()]).then(
      ([text]) => {
        if (current()) body.innerHTML = text;
      },
      () => {
        if (current()) title.textContent = box.dataset.failed;
      },
    );
  }

  // (b) Another day or week: its <main> in place of this one, in the history too.
  // ``clicked`` false: a refresh after a change, which on failure shows the note instead
  // of leaving the page.
  async function swap(url, push, clicked) {
    const shown = main();
    if (!shown) return location.assign(url);
    // For assistive technology only: restyling the whole grid here would make the click's
    // first paint as slow as the swap it is waiting for.
    shown.setAttribute("aria-busy", "true");
    // A refresh still on its way when the person goes to another day must not put the
    // day they left back in place.
    const mine = ++swaps;
    swapping++;
    try {
      let fetched = take(url, clicked);
      let [text] = await Promise.all([fetched.page, painted()]);
      // A change reported while the page was on its way may not be in it: fetch again.
      for (let tries = 1; fetched.changes !== changes && mine === swaps; tries++) {
        if (tries >= SWAP_TRIES) throw new Error("the calendar keeps changing");
        fetched = { page: html(url, clicked), changes };
        text = await fetched.page;
      }
      if (mine !== swaps) return;
      const page = new DOMParser().parseFromString(text, "text/html");
      const fresh = page.querySelector("main");
      if (!fresh) throw new Error("no main");
      main().replaceWith(fresh);
      document.title = page.title;
      if (push) history.pushState({ swapped: true }, "", url);
      edited = false;
      note(false);
    } catch {
      if (mine !== swaps) return;
      if (clicked) {
        location.assign(url);
      } else {
        shown.removeAttribute("aria-busy");
        note(true);
      }
    } finally {
      swapping--;
    }
  }

  function refresh() {
    if (refreshing) return;
    refreshing = setTimeout(() => {
      refreshing = null;
      // A swap on its way fetches again itself (the change moved the counter); a refresh
      // of the page being left would undo the person's click.
      if (!swapping) swap(location.href, false, false);
    }, 100);
  }

  function note(show) {
    const box = document.getElementById("changed");
    if (!box) return;
    // An open modal dialog makes the rest of the page inert: the note goes inside it.
    const open = dialog() && dialog().open;
    const home = open ? dialog() : document.body;
    if (show && box.parentElement !== home) home.append(box);
    box.hidden = !show;
  }

  // The walk-in form for the spot clicked. The day view's rows count real time from the
  // instant ``data-top`` (a DST day has 23 or 25 hours of them): the instant goes to the
  // server, which turns it into the salon's local time. The week view's rows are the wall
  // clock from ``data-first`` on ``data-day``: the local time goes as it is.
  function newAt(event, rows) {
    const box = rows.getBoundingClientRect();
    const line = Math.floor(((event.clientY - box.top) / box.height) * Number(rows.dataset.rows));
    const step = Number(rows.dataset.step);
    const url = new URL(rows.dataset.new, location.href);
    url.searchParams.set("day", rows.dataset.day);
    if (rows.dataset.top) {
      const start = new Date(Date.parse(rows.dataset.top) + line * step * 60000);
      url.searchParams.set("start", start.toISOString().replace(".000Z", "Z"));
      return location.assign(url);
    }
    const [hour, minute] = rows.dataset.first.split(":").map(Number);
    let minutes = hour * 60 + minute + line * step;
    const day = new Date(rows.dataset.day + "T00:00:00Z");
    day.setUTCDate(day.getUTCDate() + Math.floor(minutes / 1440));
    minutes %= 1440;
    const two = (n) => String(n).padStart(2, "0");
    url.searchParams.set("day", day.toISOString().slice(0, 10));
    url.searchParams.set("at", two(Math.floor(minutes / 60)) + ":" + two(minutes % 60));
    location.assign(url);
  }

  document.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return; // a new tab or window: the plain link
    }
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const block = target.closest("a.open");
    if (block && dialog()) {
      event.preventDefault();
      openBooking(block.href);
    } else if (target.closest("a[data-swap]")) {
      event.preventDefault();
      swap(target.closest("a[data-swap]").href, true, true);
    } else if (target.closest("[data-refresh]")) {
      pending = false; // refreshed here, not again when the dialog closes
      const box = dialog();
      if (box && box.open) box.close();
      if (gridPage()) swap(location.href, false, true);
      else location.reload();
    } else if (target.classList.contains("rows") && target.dataset.new) {
      newAt(event, target);
    }
  });

  document.addEventListener("pointerover", (event) => {
    const link = event.target instanceof Element && event.target.closest("a[data-swap]");
    if (link) prefetch(link.href);
  });

  document.addEventListener("input", () => {
    edited = true;
  });

  // A form sent (a full page load follows) has its buttons disabled: a second click would
  // send it again (book twice). After the event, or the clicked button's value would not
  // be sent; enabled again when the page is shown from the back/forward cache.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
    if (form.method !== "post") return; // a dialog's close, a search: harmless twice
    setTimeout(() => {
      for (const button of form.querySelectorAll("button, input[type=submit]")) {
        button.disabled = true;
        button.dataset.sent = "";
      }
    }, 0);
  });

  window.addEventListener("pageshow", () => {
    for (const button of document.querySelectorAll("[data-sent]")) {
      button.disabled = false;
      delete button.dataset.sent;
    }
  });

  document.addEventListener(
    "close",
    (event) => {
      if (event.target !== dialog()) return;
      opened++; // an answer still on its way is for a dialog no longer shown
      edited = false;
      if (!pending) return;
      pending = false;
      if (gridPage()) refresh();
      else note(true);
    },
    true,
  );

  window.addEventListener("popstate", () => {
    if (gridPage()) swap(location.href, false, true);
  });

  // A change reported by live.js: detail {staff_key, days}; nulls mean "anything".
  document.addEventListener("salonbot:changed", (event) => {
    // Whatever changed, a page fetched ahead may not show it: none is used from now on.
    changes++;
    prefetched.clear();
    const shown = main();
    if (!shown || !shown.dataset.days) return;
    const change = event.detail || {};
    const days = shown.dataset.days.split(" ");
    const staff = shown.dataset.staff;
    const ours = !change.days || change.days.some((day) => days.includes(day));
    const theirs = !change.staff_key || !staff || change.staff_key === staff;
    if (!ours || !theirs) return;
    const box = dialog();
    if (box && box.open) {
      pending = true;
      note(true);
    } else if (edited || !gridPage()) {
      note(true);
    } else {
      refresh();
    }
  });
})();
