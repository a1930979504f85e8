import ArgumentParser

/// The `kascade` command: training-free sparse attention for long-context inference.
@main
struct Kascade: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kascade",
        abstract: "Training-free sparse attention (Kascade, Quest, Twilight, vAttention, StreamingLLM) for long-context LLM inference.",
        subcommands: [
            InspectCommand.self,
            AttendCommand.self,
            BenchCommand.self,
            CalibrateCommand.self,
            DemoCommand.self,
            CheckCommand.self, CUDABenchCommand.self,
            EvalCommand.self,
            GenerateCommand.self,
            ScoreCommand.self,
        ]
    )
}
