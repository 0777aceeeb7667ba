// Every page module of the desk; each registers its routes and its messages when imported.
import "./operator.js";
import "./registry.js";
import "./records.js";
import "./supervisor.js";
