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
        var ex = Assert.ThrowsAny<FormatException>(() => GroundTruthParser.ParseMot("1,1,1,1,1,1,1\n1,1,abc,1,1,1,1\n"));
        Assert.Contains("line 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("left", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseVoc_HeadBoxes_KeepPixelsAndReadTyposAsHeads()
    {
        const string xml = """
            <annotation><filename>PartA_1.jpg</filename><size><width>1070</width><height>594</height></size>
              <object><name>head</name><difficult>0</difficult><bndbox><xmin>64</xmin><ymin>222</ymin><xmax>107</xmax><ymax>271</ymax></bndbox></object>
              <object><name>headdddddaaddwddd</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>2</ymax></bndbox></object>
              <object><name>head</name><difficult>1</difficult><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>
            </annotation>
            """;

        var (key, size, boxes) = GroundTruthParser.ParseVoc(xml, "PartA_1.xml");

        Assert.Equal("PartA_1.jpg", key);
        Assert.Equal(new SizeI(1070, 594), size);
        Assert.Equal(3, boxes.Count);
        Assert.All(boxes, b => Assert.Equal(ObjectClass.Head, b.Class));
        Assert.Equal(BoxF.FromLtrb(64, 222, 107, 271), boxes[0].Box);
        Assert.True(boxes[2].Ignore);
    }

    [Fact]
    public void ParseVoc_BadCoordinate_NamesTheFileLineAndElement()
    {
        const string xml = "<annotation>\n<object><name>head</name><bndbox>\n<xmin>1</xmin><ymin>x</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>";

        var ex = Assert.ThrowsAny<FormatException>(() => GroundTruthParser.ParseVoc(xml, "bad.xml"));

        Assert.Contains("bad.xml", ex.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("<ymin>", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("head", ObjectClass.Head)]
    [InlineData("Person", ObjectClass.Person)]
    [InlineData("cell phone", ObjectClass.Phone)]
    [InlineData("chair", ObjectClass.Other)]
    public void ObjectClassNames_MapLabelSpellings(string label, ObjectClass expected) => Assert.Equal(expected, ObjectClassNames.FromLabel(label));

    [Fact]
    public void ObjectClassNames_Parse_RefusesUnknownNamesWithTheChoices()
    {
        Assert.Equal(ObjectClass.Head, ObjectClassNames.Parse("head"));
        var ex = Assert.Throws<ArgumentException>(() => ObjectClassNames.Parse("headz"));
        Assert.Contains("person, head, face", ex.Message, StringComparison.Ordinal);
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
