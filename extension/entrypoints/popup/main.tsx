import { render } from "preact";
import { App } from "../../ui/app.js";
import "../../ui/app.css";

render(<App layout="popup" />, document.getElementById("app")!);
