using CinemaVision.Core.Detections;
using CinemaVision.Core.Evaluation;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tests.Evaluation;

public class EvaluationTests
{
    private static Detection Person(float x, float y, float w, float h, float score = 0.9f) => new(new BoxF(x, y, w, h), 0, score, ObjectClass.Person);

    [Fact]
    public void ParseMot_FlagZero_IsAnIgnoreRegion()
    {
        var set = GroundTruthParser.ParseMot("1,9,499,158,31.03,75.17,1,-4.1,-7.3,0\n1,10,10,10,20,40,0,-1,-1,-1\n2,9,500,160,31,75,1,0,0,0\n");

        Assert.Equal(2, set.For("1").Count);
        Assert.True(set.For("1")[1].Ignore);
        Assert.Equal(2, set.BoxCount);
        Assert.Equal("1", GroundTruthSet.FrameKey(0));
    }

    [Fact]
    public void ParseMot_BadNumber_NamesTheLineAndField()
    {
        var ex = Assert.Throws<FormatException>(() => GroundTruthParser.ParseMot("1,1,1,1,1,1,1\n1,1,abc,1,1,1,1\n"));
        Assert.Contains("line 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("left", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseYolo_NormalisedBoxes_BecomePixels()
    {
        var boxes = GroundTruthParser.ParseYolo("0 0.5 0.5 0.1 0.2\n", new SizeI(1000, 500));
        var b = Assert.Single(boxes);
        Assert.Equal(BoxF.FromCenter(500, 250, 100, 100), b.Box);
    }

    [Fact]
    public void ParseCoco_CategoriesAndCrowd_MapToClassesAndIgnore()
    {
        const string json = """
            {"images":[{"id":1,"file_name":"a.jpg"}],
             "categories":[{"id":1,"name":"person"},{"id":77,"name":"cell phone"}],
             "annotations":[{"image_id":1,"category_id":1,"bbox":[1,2,3,4],"iscrowd":0},
                            {"image_id":1,"category_id":77,"bbox":[5,6,7,8]},
                            {"image_id":1,"category_id":1,"bbox":[0,0,50,50],"iscrowd":1}]}
            """;
        var set = GroundTruthParser.ParseCoco(json);
        var boxes = set.For("a.jpg");
        Assert.Equal(3, boxes.Count);
        Assert.Equal(ObjectClass.Phone, boxes[1].Class);
        Assert.True(boxes[2].Ignore);
    }

    [Fact]
    public void Evaluator_CountsTruePositivesFalsePositivesAndMisses()
    {
        var eval = new DetectionEvaluator();
        GroundTruthBox[] truth = [new(new BoxF(0, 0, 20, 50), ObjectClass.Person), new(new BoxF(100, 0, 20, 50), ObjectClass.Person)];

        var outcome = eval.AddFrame([Person(1, 1, 20, 50), Person(300, 300, 20, 50)], truth);

        Assert.Equal(new FrameOutcome(1, 1, 1, 2, 2), outcome);
        Assert.Equal(0.5, eval.Precision, 5);
        Assert.Equal(0.5, eval.Recall, 5);
        Assert.Equal(0, eval.CountMae, 5);
    }

    [Fact]
    public void Evaluator_DuplicateDetection_IsAFalsePositive()
    {
        var eval = new DetectionEvaluator();
        eval.AddFrame([Person(0, 0, 20, 50), Person(1, 0, 20, 50, 0.8f)], [new(new BoxF(0, 0, 20, 50), ObjectClass.Person)]);
        Assert.Equal(1, eval.TruePositives);
        Assert.Equal(1, eval.FalsePositives);
        Assert.Equal(1, eval.CountMae, 5);
    }

    [Fact]
    public void Evaluator_DetectionInIgnoreRegion_CountsNeitherWay()
    {
        var eval = new DetectionEvaluator(ignoreRegions: [new BoxF(0, 0, 100, 100)]);
        eval.AddFrame([Person(10, 10, 20, 40)], []);
        Assert.Equal(0, eval.FalsePositives);
        Assert.Equal(0, eval.CountMae, 5);
    }

    [Fact]
    public void Evaluator_CenterCriterion_MatchesFaceLabelsToPersonBoxes()
    {
        var eval = new DetectionEvaluator(ObjectClass.Person, MatchCriterion.Center);
        GroundTruthBox[] faces = [new(new BoxF(105, 100, 20, 25), ObjectClass.Person), new(new BoxF(205, 100, 20, 25), ObjectClass.Person)];
        eval.AddFrame([Person(95, 90, 40, 120), Person(195, 90, 40, 120)], faces);
        Assert.Equal(2, eval.TruePositives);
        Assert.Equal(1.0, eval.Recall, 5);
    }
}
