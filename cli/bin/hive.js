#!/usr/bin/env node
// The `hive` command; the code is in cli/src (built to cli/dist).
import "../dist/src/main.js";
