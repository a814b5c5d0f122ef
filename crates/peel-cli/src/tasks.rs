//! Task names on the command line.

use peel_protocol::prompt::Task;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskArg {
    Depth,
    Normals,
    Semantic,
    Instance,
    Referring,
}

impl From<TaskArg> for Task {
    fn from(arg: TaskArg) -> Self {
        match arg {
            TaskArg::Depth => Task::Depth,
            TaskArg::Normals => Task::Normals,
            TaskArg::Semantic => Task::Semantic,
            TaskArg::Instance => Task::Instance,
            TaskArg::Referring => Task::Referring,
        }
    }
}

/// The tasks `peel encode` can make targets for.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeTask {
    Depth,
    Normals,
}
