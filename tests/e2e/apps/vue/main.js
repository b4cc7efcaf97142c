// A Vue 3 app (render functions: no template compiler in the bundle) that shows one listing at
// a time: mounted in onMounted, mounted again with the new listing when the prop changes,
// unmounted in onBeforeUnmount.
import { createApp, defineComponent, h, onBeforeUnmount, onMounted, ref, watch } from "vue";
import { mount, unmount } from "@mighty-commerce/widget";

const checkout = `${MIGHTY_SERVER}/v1/checkout/sessions`;
const LISTINGS = ["candle-trio", "velo-atelier", "kissa-ramen"];
window.__vue = { mounts: [], unmounts: [] };

const Listing = defineComponent({
  props: { id: { type: String, required: true } },
  setup(props) {
    const host = ref(null);
    const show = (id) => {
      window.__vue.mounts.push(id);
      window.__host = host.value;
      mount(host.value, { id, checkout, eager: true });
    };
    onMounted(() => show(props.id));
    watch(() => props.id, show);
    onBeforeUnmount(() => {
      window.__vue.unmounts.push(props.id);
      unmount(host.value);
    });
    return () => h("div", { ref: host, class: "listing" }, [h("p", `Loading ${props.id}…`)]);
  },
});

const App = defineComponent({
  setup() {
    const index = ref(0);
    const shown = ref(true);
    return () =>
      h("main", [
        h("button", { type: "button", id: "next", onClick: () => (index.value = (index.value + 1) % LISTINGS.length) }, "Next listing"),
        h("button", { type: "button", id: "toggle", onClick: () => (shown.value = !shown.value) }, shown.value ? "Hide" : "Show"),
        shown.value ? h(Listing, { id: LISTINGS[index.value] }) : null,
      ]);
  },
});

createApp(App).mount("#root");
