// The staff pages' few interactions. Every link and form works without this script; it
// only makes the frequent ones quick: a booking opens in a dialog at once (painted first,
// filled when its fragment arrives), the day/week navigation swaps <main> in place, the
// grid refreshes itself when live.js reports a change to a shown day, and a click on an
// empty spot of a column starts a walk-in at that staff member and time.
"use strict";
(() => {
  const ROW_MINUTES = 15;
  const prefetched = new Map(); // URL -> Promise of its HTML, taken once
  let edited = false; // a form on the page or in the dialog has unsent edits
  let refreshing = null; // a pending refresh, so a burst of changes is one fetch

  const main = () => document.querySelector("main");
  // Resolves once the frame showing the click's first response has been painted: heavy
  // work after it does not delay that paint (what Interaction to Next Paint measures).
  const painted = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  const dialog = () => document.getElementById("booking-dialog");

  async function html(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (response.redirected && new URL(response.url).pathname.endsWith("/login")) {
      location.assign(url); // the session ended: the sign-in page, then back
      throw new Error("signed out");
    }
    if (!response.ok) throw new Error(String(response.status));
    return response.text();
  }

  function take(url) {
    const early = prefetched.get(url);
    prefetched.delete(url);
    return early || html(url);
  }

  function prefetch(url) {
    if (prefetched.has(url)) return;
    if (prefetched.size > 4) prefetched.clear();
    const page = html(url);
    page.catch(() => prefetched.delete(url));
    prefetched.set(url, page);
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
    if (!box.open) box.showModal();
    const fragment = new URL(url, location.href);
    fragment.searchParams.set("part", "dialog");
    Promise.all([html(fragment), painted()]).then(
      ([text]) => {
        if (box.open) body.innerHTML = text;
      },
      () => {
        title.textContent = box.dataset.failed;
      },
    );
  }

  // (b) Another day or week: its <main> in place of this one, in the history too.
  async function swap(url, push) {
    const shown = main();
    if (!shown) return location.assign(url);
    // For assistive technology only: restyling the whole grid here would make the click's
    // first paint as slow as the swap it is waiting for.
    shown.setAttribute("aria-busy", "true");
    try {
      const [text] = await Promise.all([take(url), painted()]);
      const page = new DOMParser().parseFromString(text, "text/html");
      const fresh = page.querySelector("main");
      if (!fresh) throw new Error("no main");
      main().replaceWith(fresh);
      document.title = page.title;
      if (push) history.pushState({ swapped: true }, "", url);
      edited = false;
      note(false);
    } catch {
      location.assign(url);
    }
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

  function newAt(event, rows) {
    const box = rows.getBoundingClientRect();
    const line = Math.floor(((event.clientY - box.top) / box.height) * Number(rows.dataset.rows));
    const [hour, minute] = rows.dataset.first.split(":").map(Number);
    let minutes = hour * 60 + minute + line * ROW_MINUTES;
    const day = new Date(rows.dataset.day + "T00:00:00Z");
    day.setUTCDate(day.getUTCDate() + Math.floor(minutes / 1440));
    minutes %= 1440;
    const two = (n) => String(n).padStart(2, "0");
    const url = new URL(rows.dataset.new, location.href);
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
      swap(target.closest("a[data-swap]").href, true);
    } else if (target.closest("[data-refresh]")) {
      const box = dialog();
      if (box && box.open) box.close();
      if (main() && main().classList.contains("grid-page")) swap(location.href, false);
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

  document.addEventListener(
    "close",
    (event) => {
      if (event.target === dialog()) edited = false;
    },
    true,
  );

  window.addEventListener("popstate", () => {
    if (main() && main().classList.contains("grid-page")) swap(location.href, false);
  });

  // A change reported by live.js: detail {staff_key, days}; nulls mean "anything".
  document.addEventListener("salonbot:changed", (event) => {
    const shown = main();
    if (!shown || !shown.dataset.days) return;
    const change = event.detail || {};
    const days = shown.dataset.days.split(" ");
    const staff = shown.dataset.staff;
    const ours = !change.days || change.days.some((day) => days.includes(day));
    const theirs = !change.staff_key || !staff || change.staff_key === staff;
    if (!ours || !theirs) return;
    prefetched.clear();
    const box = dialog();
    if (edited || (box && box.open) || !shown.classList.contains("grid-page")) {
      note(true);
    } else if (!refreshing) {
      refreshing = setTimeout(() => {
        refreshing = null;
        swap(location.href, false);
      }, 100);
    }
  });
})();
