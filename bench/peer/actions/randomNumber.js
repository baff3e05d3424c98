// randomNumber, written for the benchmark: the same output as actionhero-c's.
const { Action } = require("actionhero");

class RandomNumber extends Action {
  constructor() {
    super();
    this.name = "randomNumber";
    this.description = "returns a random number";
    this.outputExample = { randomNumber: 0.5 };
  }

  async run() {
    const n = Math.random();
    return { randomNumber: n, stringRandomNumber: `Your random number is ${n}` };
  }
}

exports.RandomNumber = RandomNumber;
