// The receipt's way back to the shop (SPEC section 4). In a popup opened by the widget, post
// the session id to the opener, addressed to the shop's origin only; otherwise go back to
// the return URL (which carries mighty_session) after a moment. Without JavaScript, the
// receipt's "Back to the shop" link does the same.
const receipt = document.querySelector("[data-return-url]");
if (receipt) {
  const returnUrl = receipt.getAttribute("data-return-url");
  const sessionId = receipt.getAttribute("data-session-id");
  const origin = new URL(returnUrl).origin;
  const status = document.getElementById("return-status");
  if (window.opener && !window.opener.closed) {
    window.opener.postMessage({ type: "mighty:checkout", session_id: sessionId }, origin);
    if (status) status.textContent = "You can close this window: the shop has your payment.";
  } else {
    if (status) status.textContent = "Taking you back to the shop…";
    setTimeout(() => window.location.assign(returnUrl), 2500);
  }
}
