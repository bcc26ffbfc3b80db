import { render } from "preact";
import { App } from "../../ui/app.js";

render(<App layout="popup" />, document.getElementById("app")!);
