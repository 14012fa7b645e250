#!/usr/bin/env node
console.log('face3d');
