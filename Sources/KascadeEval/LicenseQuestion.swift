/// A hand-written question over one licence document whose answer is verbatim in that document.
public struct LicenseQuestion: Sendable, Hashable {
    /// File name under `/usr/share/common-licenses`.
    public let document: String
    /// The question.
    public let question: String
    /// The answer, verbatim in the document.
    public let answer: String

    /// Creates a question.
    public init(document: String, question: String, answer: String) {
        self.document = document
        self.question = question
        self.answer = answer
    }

    /// The questions of the QA task. Their documents are disjoint from the calibration set
    /// (GPL-2, LGPL-2.1, MPL-*, GFDL-1.2); `LicenseCorpus.load` checks every answer is in its document.
    public static let all: [LicenseQuestion] = [
        .init(document: "GPL-3", question: "On what date was version 3 of the GNU General Public License published?", answer: "29 June 2007"),
        .init(document: "GPL-3", question: "The GPL's exception for patent licenses covers licenses granted prior to which date?", answer: "28 March 2007"),
        .init(document: "GPL-3", question: "For how many years must the written offer for the Corresponding Source, accompanying object code in a physical product, be valid at least?", answer: "three years"),
        .init(document: "GPL-3", question: "If a copyright holder notifies you of a first violation, within how many days after receipt of the notice must you cure it?", answer: "30 days"),
        .init(document: "GFDL-1.3", question: "On what date was version 1.3 of the GNU Free Documentation License published?", answer: "3 November 2008"),
        .init(document: "GFDL-1.3", question: "Above how many printed copies of the Document must the copies be enclosed in covers carrying the Cover Texts?", answer: "100"),
        .init(document: "GFDL-1.3", question: "Up to how many words may a passage added as a Front-Cover Text have?", answer: "five words"),
        .init(document: "GFDL-1.3", question: "Before what date must a Massive Multiauthor Collaboration site have been relicensed under CC-BY-SA?", answer: "August 1, 2009"),
        .init(document: "Apache-2.0", question: "In which month and year was version 2.0 of the Apache License published?", answer: "January 2004"),
        .init(document: "Apache-2.0", question: "Under the Apache License, ownership of what share of the outstanding shares counts as control of an entity?", answer: "fifty percent"),
        .init(document: "LGPL-2", question: "In the sample copyright disclaimer of the Library General Public License, which company disclaims copyright interest?", answer: "Yoyodyne"),
        .init(document: "LGPL-2", question: "What is the name of the sample library, a library for tweaking knobs, in the Library General Public License?", answer: "Frob"),
        .init(document: "LGPL-2", question: "Small inline functions of at most how many lines keep the use of an object file unrestricted under the Library General Public License?", answer: "ten lines"),
        .init(document: "LGPL-3", question: "According to the GNU Lesser General Public License, defining what is deemed a mode of using an interface provided by the Library?", answer: "a subclass"),
        .init(document: "Artistic", question: "Which archive site does the Artistic License give as an example of a major archive site?", answer: "uunet.uu.net"),
        .init(document: "Artistic", question: "In the Artistic License, posting modifications to which network is an example of making them Freely Available?", answer: "Usenet"),
    ]
}
