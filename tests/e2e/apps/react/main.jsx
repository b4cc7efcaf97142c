// A React app (React 19, StrictMode, development build: effects run, clean up and run again
// on mount) that shows one listing at a time: the widget is mounted in an effect and
// unmounted in its cleanup, and "Next listing" re-renders the same host with a new listing.
import { StrictMode, useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { mount, unmount } from "@mighty-commerce/widget";

const checkout = `${MIGHTY_SERVER}/v1/checkout/sessions`;
const LISTINGS = ["candle-trio", "velo-atelier", "kissa-ramen"];
window.__react = { mounts: [], unmounts: [] };

function Listing({ id }) {
  const host = useRef(null);
  useEffect(() => {
    const element = host.current;
    window.__react.mounts.push(id);
    window.__host = element;
    mount(element, { id, checkout, eager: true });
    return () => {
      window.__react.unmounts.push(id);
      unmount(element);
    };
  }, [id]);
  // The host's children are the fallback: shown until the card mounts.
  return (
    <div ref={host} className="listing">
      <p>Loading {id}…</p>
    </div>
  );
}

function App() {
  const [index, setIndex] = useState(0);
  const [shown, setShown] = useState(true);
  return (
    <main>
      <button type="button" id="next" onClick={() => setIndex((index + 1) % LISTINGS.length)}>
        Next listing
      </button>
      <button type="button" id="toggle" onClick={() => setShown(!shown)}>
        {shown ? "Hide" : "Show"}
      </button>
      {shown && <Listing id={LISTINGS[index]} />}
    </main>
  );
}

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
