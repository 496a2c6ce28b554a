// A thank-you page's next step, for a form posted without JavaScript: the grant is in the URL
// fragment. The API's origin is the page's `<meta name="steward-api">`, or this site's own.
import { continueFromFragment } from "./steward-forms.js";

const api = document.querySelector('meta[name="steward-api"]')?.content || window.location.origin;
// The language switch keeps the grant: the same step, in the other language.
for (const other of document.querySelectorAll("footer a[hreflang]")) {
  if (window.location.hash) other.hash = window.location.hash;
}
continueFromFragment(document.getElementById("next"), api);
