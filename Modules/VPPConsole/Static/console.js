// vpp console: optional improvements only; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A page waiting for Apple (licences pending) reloads itself every few seconds.
  const seconds = Number(document.body.dataset.refresh || 0);
  if (seconds > 0) setTimeout(() => window.location.reload(), seconds * 1000);
});
