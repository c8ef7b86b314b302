using System.CommandLine;
using DiveAspire.Cli;
using DiveAspire.Cli.Commands;

return await DiveCli.RunAsync(args, Console.Out, Console.Error);
