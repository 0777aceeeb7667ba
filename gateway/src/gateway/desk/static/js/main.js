// Entry point (no inline script: the Content-Security-Policy allows scripts from the desk's own origin only).
import "./pages/index.js";
import { start } from "./app.js";

start();
