import { printOnFailure } from "./failure-log.js";

printOnFailure();
